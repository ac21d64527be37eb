// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * What the nft backend knows beside the kernel: one record per guarded
 * cgroup (its network namespace, policy source, generation), and the
 * read-back of table inet cgguard from a namespace ("view").
 *
 * Records live in CG_NFT_STATE_DIR (root-owned, 0700), one small
 * key=value file per cgroup id, replaced atomically by rename().  They
 * are opened once with O_NOFOLLOW and checked on the fd (regular file,
 * owned by us, not group/world writable, bounded size).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/nsfs.h>
#include <json-c/json.h>
#include "nft.h"
#include "nftstate.h"
#include "nftrun.h"
#include "../lib/err.h"

#define REC_MAX		16384	/* bytes in one record file */
#define REC_LIMIT	100000	/* records read at most */

int cg_nft_state_dir(int create)
{
	struct stat st;

	if (create && mkdir("/run/cgguard", 0755) && errno != EEXIST)
		return cg_seterr(-errno, "cannot create /run/cgguard: %m");
	if (create && mkdir(CG_NFT_STATE_DIR, 0700) && errno != EEXIST)
		return cg_seterr(-errno, "cannot create %s: %m",
				 CG_NFT_STATE_DIR);
	if (lstat(CG_NFT_STATE_DIR, &st))
		return errno == ENOENT ? -ENOENT :
		       cg_seterr(-errno, "%s: %m", CG_NFT_STATE_DIR);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return cg_seterr(-EPERM, "%s must be a directory owned by "
				 "uid %u with mode 0700", CG_NFT_STATE_DIR,
				 geteuid());
	return 0;
}

int cg_nft_lock(void)
{
	int fd, err = cg_nft_state_dir(1);

	if (err)
		return err;
	fd = open(CG_NFT_STATE_DIR "/lock", O_RDWR | O_CREAT | O_NOFOLLOW |
		  O_CLOEXEC, 0600);
	if (fd < 0)
		return cg_seterr(-errno, "cannot open %s/lock: %m",
				 CG_NFT_STATE_DIR);
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return cg_seterr(-errno, "flock %s/lock: %m", CG_NFT_STATE_DIR);
	}
	return fd;
}

static void put_str(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%s=%s\n", k, v);
}

int cg_nft_rec_save(const struct cg_nft_rec *r)
{
	char tmp[PATH_MAX + 8], dst[PATH_MAX];
	FILE *f;
	int fd, err = cg_nft_state_dir(1);

	if (err)
		return err;
	snprintf(dst, sizeof(dst), "%s/%" PRIu64, CG_NFT_STATE_DIR, r->cgid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = cg_seterr(-errno, "cannot write %s: %m", tmp);
		if (fd >= 0)
			close(fd);
		return err;
	}
	fprintf(f, "cgid=%" PRIu64 "\nlevel=%d\ngen=%u\nflags=%u\nmode=%u\n"
		"wants=%u\nattached_ns=%" PRIu64 "\n"
		"ns_dev=%" PRIu64 "\nns_ino=%" PRIu64 "\n", r->cgid, r->level,
		r->gen, r->flags, r->mode, r->wants, r->attached_ns,
		r->ns_dev, r->ns_ino);
	put_str(f, "path", r->path);
	put_str(f, "policy", r->policy);
	put_str(f, "source", r->source);
	put_str(f, "netns", r->netns);
	if (fflush(f) || fsync(fd)) {
		err = cg_seterr(-errno, "cannot write %s: %m", tmp);
		fclose(f);
		unlink(tmp);
		return err;
	}
	fclose(f);
	if (rename(tmp, dst))
		return cg_seterr(-errno, "cannot rename %s: %m", tmp);
	return 0;
}

static int set_field(struct cg_nft_rec *r, const char *k, const char *v)
{
	static const struct { const char *k; size_t off, len; } strs[] = {
#define S(f) { #f, offsetof(struct cg_nft_rec, f), \
	       sizeof(((struct cg_nft_rec *)0)->f) }
		S(path), S(policy), S(source), S(netns),
#undef S
	};
	unsigned long long u;
	char *end;
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		if (strcmp(k, strs[i].k))
			continue;
		if (strlen(v) >= strs[i].len)
			return -EINVAL;
		memcpy((char *)r + strs[i].off, v, strlen(v) + 1);
		return 0;
	}
	errno = 0;
	u = strtoull(v, &end, 10);
	if (errno || *end || !*v)
		return -EINVAL;
	if (!strcmp(k, "cgid")) r->cgid = u;
	else if (!strcmp(k, "level")) r->level = (int)u;
	else if (!strcmp(k, "gen")) r->gen = (unsigned)u;
	else if (!strcmp(k, "flags")) r->flags = (unsigned)u;
	else if (!strcmp(k, "mode")) r->mode = (uint8_t)u;
	else if (!strcmp(k, "wants")) r->wants = (uint8_t)u;
	else if (!strcmp(k, "attached_ns")) r->attached_ns = u;
	else if (!strcmp(k, "ns_dev")) r->ns_dev = u;
	else if (!strcmp(k, "ns_ino")) r->ns_ino = u;
	/* unknown keys (a newer cgguard's) are ignored */
	return 0;
}

static int parse_rec(char *buf, struct cg_nft_rec *r)
{
	char *line, *save = NULL, *eq;

	memset(r, 0, sizeof(*r));
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		eq = strchr(line, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		if (set_field(r, line, eq + 1))
			return -EINVAL;
	}
	return r->cgid && r->path[0] == '/' ? 0 : -EINVAL;
}

static int rec_read(int dirfd, const char *name, struct cg_nft_rec *r)
{
	char buf[REC_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) ||
	    st.st_size > REC_MAX) {
		close(fd);
		return cg_seterr(-EPERM, "%s/%s: not a record cgguard wrote "
				 "(type, owner, mode or size)",
				 CG_NFT_STATE_DIR, name);
	}
	n = read(fd, buf, REC_MAX);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	if (parse_rec(buf, r))
		return cg_seterr(-EINVAL, "%s/%s: malformed record",
				 CG_NFT_STATE_DIR, name);
	return 0;
}

int cg_nft_rec_load(uint64_t cgid, struct cg_nft_rec *r)
{
	char name[32];
	int dirfd, err;

	dirfd = open(CG_NFT_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (dirfd < 0)
		return -ENOENT;
	snprintf(name, sizeof(name), "%" PRIu64, cgid);
	err = rec_read(dirfd, name, r);
	close(dirfd);
	return err;
}

int cg_nft_rec_remove(uint64_t cgid)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%" PRIu64, CG_NFT_STATE_DIR, cgid);
	return unlink(p) && errno != ENOENT ? -errno : 0;
}

static int cmp_rec(const void *a, const void *b)
{
	return strcmp(((const struct cg_nft_rec *)a)->path,
		      ((const struct cg_nft_rec *)b)->path);
}

int cg_nft_rec_all(struct cg_nft_rec **out, size_t *n)
{
	struct cg_nft_rec *v = NULL, *t;
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int dirfd;

	*out = NULL;
	*n = 0;
	dirfd = open(CG_NFT_STATE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (dirfd < 0 || !(d = fdopendir(dirfd))) {
		if (dirfd >= 0)
			close(dirfd);
		return 0;	/* nothing ever attached */
	}
	while ((de = readdir(d)) && *n < REC_LIMIT) {
		if (!de->d_name[0] || strspn(de->d_name, "0123456789") !=
		    strlen(de->d_name))
			continue;	/* lock, *.tmp */
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			t = realloc(v, cap * sizeof(*v));
			if (!t)
				break;
			v = t;
		}
		if (!rec_read(dirfd, de->d_name, &v[*n]))
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_rec);
	*out = v;
	return 0;
}

/* ---- network namespaces ------------------------------------------------ */

static int ns_fd(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);	/* no FIFO stall */

	if (fd < 0)
		return cg_seterr(-errno, "network namespace %s: %m", path);
	/* On the fd: an nsfs file of a network namespace. */
	if (fstat(fd, st) || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return cg_seterr(-EINVAL, "%s is not a network namespace",
				 path);
	}
	return fd;
}

/* A path that names @st's namespace later too: /proc/1's, or a name
 * under /var/run/netns (ip netns add). */
static int persistent_name(const struct stat *st, char *buf, size_t len)
{
	struct stat s;
	struct dirent *de;
	DIR *d;

	if (!stat("/proc/1/ns/net", &s) && s.st_ino == st->st_ino &&
	    s.st_dev == st->st_dev) {
		snprintf(buf, len, "/proc/1/ns/net");
		return 0;
	}
	d = opendir("/var/run/netns");
	while (d && (de = readdir(d))) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "/var/run/netns/%s", de->d_name);
		if (de->d_name[0] != '.' && !stat(p, &s) &&
		    s.st_ino == st->st_ino && s.st_dev == st->st_dev) {
			snprintf(buf, len, "%s", p);
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	return cg_seterr(-EINVAL, "this network namespace has no persistent "
			 "name (not the host's, none under /var/run/netns): "
			 "give --netns NAME|PATH");
}

int cg_nft_netns_open(const char *spec, struct cg_nft_rec *r, int *fd)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	if (spec && !*spec)
		return cg_seterr(-EINVAL, "empty --netns");
	if (!spec)
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	else if (!strchr(spec, '/'))
		snprintf(path, sizeof(path), "/var/run/netns/%s", spec);
	else
		snprintf(path, sizeof(path), "%s", spec);
	*fd = ns_fd(path, &st);
	if (*fd < 0)
		return *fd;
	if (!spec) {
		err = persistent_name(&st, path, sizeof(path));
		if (err) {
			close(*fd);
			return err;
		}
	}
	snprintf(r->netns, sizeof(r->netns), "%s", path);
	r->ns_dev = st.st_dev;
	r->ns_ino = st.st_ino;
	return 0;
}

int cg_nft_netns_reopen(const struct cg_nft_rec *r)
{
	struct stat st;
	int fd = ns_fd(r->netns, &st);

	if (fd < 0)
		return -ENOENT;
	if (st.st_ino != r->ns_ino || st.st_dev != r->ns_dev) {
		close(fd);
		return -ENOENT;		/* the name now means another one */
	}
	return fd;
}

/* ---- read-back ----------------------------------------------------------- */

static const char *jstr(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v)
						   : NULL;
}

static int grow(void **v, size_t n, size_t *cap, size_t sz)
{
	void *t;

	if (n < *cap)
		return 0;
	*cap = *cap ? 2 * *cap : 64;
	t = realloc(*v, *cap * sz);
	if (!t)
		return -ENOMEM;
	*v = t;
	return 0;
}

static int add_obj(struct nft_view *v, const char *name, int kind)
{
	if (grow((void **)&v->obj, v->nobj, &v->capobj, sizeof(*v->obj)))
		return -ENOMEM;
	snprintf(v->obj[v->nobj].name, sizeof(v->obj[0].name), "%s", name);
	v->obj[v->nobj++].kind = kind;
	return 0;
}

static int add_rule(struct nft_view *v, json_object *r)
{
	json_object *expr, *e, *c, *x;
	struct nft_krule *k;
	size_t i;

	if (grow((void **)&v->rules, v->nrules, &v->caprules,
		 sizeof(*v->rules)))
		return -ENOMEM;
	k = &v->rules[v->nrules++];
	memset(k, 0, sizeof(*k));
	snprintf(k->chain, sizeof(k->chain), "%s", jstr(r, "chain") ?: "");
	snprintf(k->comment, sizeof(k->comment), "%s", jstr(r, "comment") ?: "");
	if (json_object_object_get_ex(r, "handle", &x))
		k->handle = json_object_get_uint64(x);
	if (!json_object_object_get_ex(r, "expr", &expr))
		return 0;
	for (i = 0; i < json_object_array_length(expr); i++) {
		e = json_object_array_get_idx(expr, i);
		if (!json_object_object_get_ex(e, "counter", &c))
			continue;
		if (json_object_object_get_ex(c, "packets", &x))
			k->pkts = json_object_get_uint64(x);
		if (json_object_object_get_ex(c, "bytes", &x))
			k->bytes = json_object_get_uint64(x);
	}
	return 0;
}

static int parse_json(struct nft_view *v, const char *txt)
{
	json_object *root, *arr, *it, *o;
	size_t i;
	int err = 0;

	root = json_tokener_parse(txt);
	if (!root || !json_object_object_get_ex(root, "nftables", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(root);
		return cg_seterr(-EINVAL, "cannot parse libnftables' JSON");
	}
	for (i = 0; i < json_object_array_length(arr) && !err; i++) {
		it = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(it, "table", &o))
			v->table = 1;
		else if (json_object_object_get_ex(it, "chain", &o))
			err = add_obj(v, jstr(o, "name") ?: "", NFT_K_CHAIN);
		else if (json_object_object_get_ex(it, "map", &o))
			err = add_obj(v, jstr(o, "name") ?: "", NFT_K_MAP);
		else if (json_object_object_get_ex(it, "set", &o))
			err = add_obj(v, jstr(o, "name") ?: "", NFT_K_SET);
		else if (json_object_object_get_ex(it, "rule", &o))
			err = add_rule(v, o);
		else if (!json_object_object_get_ex(it, "metainfo", &o))
			err = add_obj(v, "", NFT_K_OTHER);	/* foreign */
	}
	json_object_put(root);
	return err;
}

/* One dispatch rule as nft prints it:
 *   socket cgroupv2 level 2 "a/b" counter packets 1 bytes 2 jump X
 *     comment "cgguard:ID:GEN" # handle 6 */
static int parse_disp(struct nft_view *v, int dir, const char *l)
{
	struct nft_kdisp *d;
	const char *p = strstr(l, "socket cgroupv2 level "), *q;

	if (!p)
		return 0;
	if (grow((void **)&v->disp, v->ndisp, &v->capdisp, sizeof(*v->disp)))
		return -ENOMEM;
	d = &v->disp[v->ndisp];
	memset(d, 0, sizeof(*d));
	d->dir = dir;
	p += strlen("socket cgroupv2 level ");
	d->level = atoi(p);
	p = strchr(p, ' ');
	if (!p)
		return 0;
	p++;
	if (*p == '"') {
		q = strchr(p + 1, '"');
		if (!q)
			return 0;
		snprintf(d->cg, sizeof(d->cg), "%.*s", (int)(q - p - 1), p + 1);
	} else {
		snprintf(d->cg, sizeof(d->cg), "%.*s", (int)strcspn(p, " "), p);
	}
	if ((q = strstr(p, " jump ")))
		snprintf(d->target, sizeof(d->target), "%.*s",
			 (int)strcspn(q + 6, " \n"), q + 6);
	if ((q = strstr(p, "# handle ")))
		d->handle = strtoull(q + 9, NULL, 10);
	v->ndisp++;
	return 0;
}

static int parse_text(struct nft_view *v, char *txt)
{
	char *line, *save = NULL;
	int dir = -1, err = 0;

	for (line = strtok_r(txt, "\n", &save); line && !err;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, "chain output {"))
			dir = CG_DIR_EGRESS;
		else if (strstr(line, "chain input {"))
			dir = CG_DIR_INGRESS;
		else if (dir >= 0)
			err = parse_disp(v, dir, line);
	}
	return err;
}

int nft_view_read(int nsfd, struct nft_view *v)
{
	char *out = NULL, *err = NULL, *sep;
	int ret;

	memset(v, 0, sizeof(*v));
	ret = cg_nft_run(nsfd, NFT_RUN_LIST, NULL, &out, &err);
	if (ret == -ENOENT) {		/* no table: an empty view */
		ret = err && strstr(err, "Operation not permitted") ?
		      cg_seterr(-EPERM, "nftables: needs CAP_NET_ADMIN") : 0;
		goto out;
	}
	if (ret) {
		if (ret == -EINVAL)
			ret = cg_seterr(-EIO, "nft list failed: %.300s",
					err ? err : "");
		goto out;
	}
	sep = strstr(out, "\n" NFT_RUN_SEP "\n");
	if (!sep) {
		ret = cg_seterr(-EIO, "unexpected libnftables output");
		goto out;
	}
	*sep = '\0';
	ret = parse_json(v, out);
	if (!ret)
		ret = parse_text(v, sep + 3);
out:
	free(out);
	free(err);
	if (ret)
		nft_view_free(v);
	return ret;
}

void nft_view_free(struct nft_view *v)
{
	free(v->obj);
	free(v->rules);
	free(v->disp);
	memset(v, 0, sizeof(*v));
}

/* "cg<ID>g<GEN>..." of cgroup @cgid: returns GEN, or 0 if not its. */
unsigned nft_obj_gen(const char *name, uint64_t cgid, const char **rest)
{
	unsigned long long id, gen;
	char *end;

	if (strncmp(name, "cg", 2))
		return 0;
	id = strtoull(name + 2, &end, 10);
	if (end == name + 2 || *end != 'g' || id != cgid)
		return 0;
	gen = strtoull(end + 1, &end, 10);
	if (rest)
		*rest = end;
	return gen > 0 && gen < 1u << 31 ? (unsigned)gen : 0;
}

/* Any cgroup's object: "cg<digits>g<digits>". */
int nft_obj_ours(const char *name)
{
	const char *p = name + 2;

	if (strncmp(name, "cg", 2) || !strchr("0123456789", *p) || !*p)
		return 0;
	p += strspn(p, "0123456789");
	return *p == 'g' && p[1] && strchr("0123456789", p[1]);
}
