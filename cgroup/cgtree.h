/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A cgroup tree for a socket scan (see cgtree.c); used by sockdiag.c. */
#ifndef CGGUARD_CGTREE_H
#define CGGUARD_CGTREE_H

#include <stddef.h>
#include <stdint.h>

struct cg_tree {
	uint64_t *ids;		/* the cgroup and its descendants, sorted */
	size_t nids;
	int *nsfd;		/* network namespaces of their processes */
	uint64_t *nsino;
	size_t nns;
	size_t npids;
};

int cg_tree_scan(const char *abs, struct cg_tree *t);
int cg_tree_has(const struct cg_tree *t, uint64_t id);
void cg_tree_free(struct cg_tree *t);

#endif
