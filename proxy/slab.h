/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_SLAB_H
#define STRAIT_SLAB_H

#include <stddef.h>
#include <sys/queue.h>

/* Bytes of one chunk's mapping (a power of two: chunks are aligned to it,
 * so an object finds its chunk by masking its address) */
#define SLAB_CHUNK (64 * 1024)
/* Objects per chunk at most: one bit each in a 64-bit mask */
#define SLAB_MAX_PER_CHUNK 64

struct slab_chunk;

/**
 * struct slab - objects of one size, in chunks mapped apart from the heap
 * @size:	bytes of an object, a multiple of 16
 * @per_chunk:	objects in a chunk
 * @first:	offset of a chunk's first object
 * @avail:	chunks with a free object: partly used ones first (most
 *		recently freed into first), empty ones last
 * @chunks:	chunks mapped
 * @used:	objects handed out
 */
struct slab {
	size_t size;
	unsigned per_chunk;
	size_t first;
	TAILQ_HEAD(, slab_chunk) avail;
	size_t chunks, used;
};

int slab_init(struct slab *s, size_t size);
void *slab_alloc(struct slab *s);
void slab_free(struct slab *s, void *p);
size_t slab_trim(struct slab *s);
size_t slab_resident(const struct slab *s);

#endif
