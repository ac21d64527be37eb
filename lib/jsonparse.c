// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Strict JSON (RFC 8259) parser: see jsonparse.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jsonparse.h"

struct jp {
	const char *src;	/* name for messages */
	const char *p, *end, *bol;
	int line, depth;
	char *err;
	size_t errlen;
};

#define JSON_MAX_DEPTH 64

static int jerr(struct jp *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int jerr(struct jp *j, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(j->err, j->errlen, "%s:%d:%d: %s", j->src, j->line,
		 (int)(j->p - j->bol) + 1, msg);
	return -EINVAL;
}

void jv_free(struct jv *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; v->kids && i < v->n; i++) {
		jv_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static void jskip(struct jp *j)
{
	while (j->p < j->end) {
		if (*j->p == '\n') {
			j->line++;
			j->bol = j->p + 1;
		} else if (*j->p != ' ' && *j->p != '\t' && *j->p != '\r') {
			return;
		}
		j->p++;
	}
}

static const char *jdesc(struct jp *j)
{
	static char d[32];
	unsigned char c;

	if (j->p >= j->end)
		return "end of input";
	c = *j->p;
	if (c >= 0x21 && c < 0x7f)
		snprintf(d, sizeof(d), "'%c'", c);
	else
		snprintf(d, sizeof(d), "byte 0x%02x", c);
	return d;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int jhex4(struct jp *j, unsigned *out)
{
	unsigned v = 0;
	int i, h;

	if (j->end - j->p < 4)
		return jerr(j, "truncated \\u escape");
	for (i = 0; i < 4; i++) {
		h = hexval((unsigned char)j->p[i]);
		if (h < 0) {
			j->p += i;
			return jerr(j, "bad hex digit in \\u escape");
		}
		v = v << 4 | h;
	}
	j->p += 4;
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = 0xc0 | cp >> 6;
		o[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = 0xe0 | cp >> 12;
		o[1] = 0x80 | (cp >> 6 & 0x3f);
		o[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	o[0] = 0xf0 | cp >> 18;
	o[1] = 0x80 | (cp >> 12 & 0x3f);
	o[2] = 0x80 | (cp >> 6 & 0x3f);
	o[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], cp, n, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int jstring(struct jp *j, char **out)
{
	const char *start;
	char *buf, *o;
	unsigned cp, lo;
	size_t n;
	int err;

	j->p++;		/* opening quote */
	start = j->p;
	/* Decoded text is never longer than the source. */
	for (n = 0; start + n < j->end && start[n] != '"'; n++)
		if (start[n] == '\\' && start + n + 1 < j->end)
			n++;
	buf = o = malloc(n + 1);
	if (!buf)
		return jerr(j, "out of memory");
	for (;;) {
		unsigned char c;

		if (j->p >= j->end) {
			err = jerr(j, "unterminated string");
			goto fail;
		}
		c = *j->p;
		if (c == '"')
			break;
		if (c < 0x20) {
			err = jerr(j, "control character 0x%02x in string "
				   "(must be escaped)", c);
			goto fail;
		}
		if (c != '\\') {
			size_t l = utf8_len((const unsigned char *)j->p,
					    (const unsigned char *)j->end);

			if (!l) {
				err = jerr(j, "invalid UTF-8 in string");
				goto fail;
			}
			memcpy(o, j->p, l);
			o += l;
			j->p += l;
			continue;
		}
		j->p++;
		if (j->p >= j->end) {
			err = jerr(j, "unterminated string");
			goto fail;
		}
		switch (*j->p++) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			err = jhex4(j, &cp);
			if (err)
				goto fail;
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				err = jerr(j, "unpaired low surrogate \\u%04x",
					   cp);
				goto fail;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 2 || j->p[0] != '\\' ||
				    j->p[1] != 'u') {
					err = jerr(j, "unpaired high surrogate "
						   "\\u%04x", cp);
					goto fail;
				}
				j->p += 2;
				err = jhex4(j, &lo);
				if (err)
					goto fail;
				if (lo < 0xdc00 || lo > 0xdfff) {
					err = jerr(j, "high surrogate not "
						   "followed by a low one");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			if (!cp) {
				err = jerr(j, "\\u0000 in a string is not "
					   "accepted");
				goto fail;
			}
			o += utf8_put(o, cp);
			break;
		default:
			j->p--;
			err = jerr(j, "invalid escape '\\%c'", *j->p);
			goto fail;
		}
	}
	j->p++;		/* closing quote */
	*o = 0;
	*out = buf;
	return 0;
fail:
	free(buf);
	return err;
}

static int jnumber(struct jp *j, struct jv *v)
{
	const char *s = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9')
		return jerr(j, "invalid number");
	if (*j->p == '0') {
		j->p++;
		if (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			return jerr(j, "leading zero in number");
	} else {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jerr(j, "digit expected after '.'");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9')
			return jerr(j, "digit expected in exponent");
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	v->t = J_NUM;
	v->s = strndup(s, j->p - s);
	return v->s ? 0 : jerr(j, "out of memory");
}

static int jword(struct jp *j, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n))
		return jerr(j, "unexpected %s", jdesc(j));
	j->p += n;
	return 0;
}

static int jvalue(struct jp *j, struct jv *v);

static int jappend(struct jp *j, struct jv *parent, size_t *cap,
		   struct jv *kid, char *key)
{
	if (parent->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct jv *k = realloc(parent->kids, nc * sizeof(*k));

		if (!k)
			return jerr(j, "out of memory");
		parent->kids = k;
		if (parent->t == J_OBJ) {
			char **ks = realloc(parent->keys, nc * sizeof(*ks));

			if (!ks)
				return jerr(j, "out of memory");
			parent->keys = ks;
		}
		*cap = nc;
	}
	parent->kids[parent->n] = *kid;
	if (parent->t == J_OBJ)
		parent->keys[parent->n] = key;
	parent->n++;
	return 0;
}

static int jcontainer(struct jp *j, struct jv *v, int obj)
{
	char close = obj ? '}' : ']';
	size_t cap = 0;
	int err;

	if (++j->depth > JSON_MAX_DEPTH)
		return jerr(j, "nested deeper than %d levels", JSON_MAX_DEPTH);
	v->t = obj ? J_OBJ : J_ARR;
	j->p++;
	jskip(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		struct jv kid = {};
		char *key = NULL;

		jskip(j);
		if (obj) {
			if (j->p >= j->end || *j->p != '"')
				return jerr(j, "expected a string key, got %s",
					    jdesc(j));
			err = jstring(j, &key);
			if (err)
				return err;
			jskip(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				return jerr(j, "expected ':' after key, got %s",
					    jdesc(j));
			}
			j->p++;
			jskip(j);
		}
		err = jvalue(j, &kid);
		if (!err)
			err = jappend(j, v, &cap, &kid, key);
		if (err) {
			jv_free(&kid);
			free(key);
			return err;
		}
		jskip(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jskip(j);
			if (j->p < j->end && *j->p == close)
				return jerr(j, "trailing ',' before '%c'",
					    close);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return 0;
		}
		return jerr(j, "expected ',' or '%c' in %s, got %s", close,
			    obj ? "object" : "array", jdesc(j));
	}
}

static int jvalue(struct jp *j, struct jv *v)
{
	memset(v, 0, sizeof(*v));
	jskip(j);
	v->line = j->line;
	v->col = (int)(j->p - j->bol) + 1;
	if (j->p >= j->end)
		return jerr(j, "value expected, got end of input");
	switch (*j->p) {
	case '{': return jcontainer(j, v, 1);
	case '[': return jcontainer(j, v, 0);
	case '"': v->t = J_STR; return jstring(j, &v->s);
	case 't': v->t = J_BOOL; v->b = 1; return jword(j, "true");
	case 'f': v->t = J_BOOL; return jword(j, "false");
	case 'n': v->t = J_NULL; return jword(j, "null");
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return jnumber(j, v);
		return jerr(j, "unexpected %s", jdesc(j));
	}
}

/* Parses a whole document that must be a JSON object. */
int json_parse(const char *src, const char *buf, size_t len,
	       struct jv *out, char *err, size_t errlen)
{
	struct jp j = { .src = src, .p = buf, .end = buf + len, .bol = buf,
			.line = 1, .err = err, .errlen = errlen };
	int r;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		return jerr(&j, "byte order mark is not allowed");
	jskip(&j);
	if (j.p < j.end && *j.p != '{')
		return jerr(&j, "expected a JSON object, got %s", jdesc(&j));
	r = jvalue(&j, out);
	if (!r) {
		jskip(&j);
		if (j.p < j.end)
			r = jerr(&j, "unexpected %s after the top-level "
				 "object", jdesc(&j));
	}
	if (r)
		jv_free(out);
	return r;
}

/*
 * Member @key of object @o: 0 found, -ENOENT absent, -EINVAL when the key
 * appears twice (parsers disagree on which one counts: refuse).
 */
int jget(const struct jv *o, const char *key, const struct jv **out)
{
	size_t i;

	*out = NULL;
	if (!o || o->t != J_OBJ)
		return -ENOENT;
	for (i = 0; i < o->n; i++) {
		if (strcmp(o->keys[i], key))
			continue;
		if (*out)
			return -EINVAL;
		*out = &o->kids[i];
	}
	return *out ? 0 : -ENOENT;
}

const char *jtype_name(enum jtype t)
{
	static const char *const n[] = { "null", "boolean", "number", "string",
					 "array", "object" };
	return n[t];
}
