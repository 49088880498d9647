// SPDX-License-Identifier: MIT
/*
 * slab.c - objects of one size in chunks of their own, given back after a
 * burst
 *
 * Theory of operation
 *
 * A proxy that saw one burst of connections should not keep its peak for
 * the rest of its life. With malloc() it does: a relay is about 1 KiB,
 * and the heap it came from also holds what libevent allocates per fd
 * number (and keeps for good), so once a burst is over nearly every page
 * still holds something live and neither free() nor malloc_trim() can give
 * it back (measured: 9,000 connections held and closed left 11 MB of the
 * 13.8 MB peak).
 *
 * So relays live apart, in chunks of SLAB_CHUNK bytes mapped with mmap(2)
 * and aligned to their size (an object finds its chunk by masking its
 * address). A chunk starts with a header: a bit per object saying whether
 * it is free, and a bit per page saying whether that page was given back.
 * Objects are handed out lowest first from a partly used chunk (the one
 * most recently freed into) before any empty one, so the live ones stay
 * packed at the low end of few chunks and empty chunks stay empty.
 *
 * Allocating and freeing make no system call (but for a new chunk, every
 * SLAB_MAX_PER_CHUNK objects at most). Giving memory back is slab_trim()'s
 * job, for the owner to call once things are quiet: it unmaps every
 * empty chunk but one, and tells the kernel it may take the pages of
 * the kept one and every page of a partly used chunk that holds only free
 * objects (madvise(MADV_DONTNEED): the next use of such a page finds it
 * zeroed, which costs a page fault and nothing else).
 */
#include "slab.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define SLAB_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define SLAB_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define SLAB_POISON(p, n) ((void)(p), (void)(n))
#define SLAB_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/**
 * struct slab_chunk - the header at the start of every chunk
 * @link:	in the slab's list of chunks with a free object
 * @free:	bit i: object i is free
 * @released:	bit p: page p was given back and not used since
 * @listed:	in that list (a full chunk is in none)
 */
struct slab_chunk {
	TAILQ_ENTRY(slab_chunk) link;
	uint64_t free, released;
	bool listed;
};

/* Page size, and how many pages a chunk has (at most 64: a bit each) */
static size_t slab_page;
static unsigned slab_npages;

static uint64_t slab_all(const struct slab *s)
{
	return s->per_chunk == 64 ? ~0ULL : (1ULL << s->per_chunk) - 1;
}

/* Bit i: object i lies (in part) on page @p of a chunk */
static uint64_t slab_objects_on(const struct slab *s, unsigned p)
{
	size_t lo = p * slab_page, hi = lo + slab_page - 1, a, b;

	if (hi < s->first || lo >= s->first + s->per_chunk * s->size)
		return 0;
	a = lo < s->first ? 0 : (lo - s->first) / s->size;
	b = (hi - s->first) / s->size;
	if (b >= s->per_chunk)
		b = s->per_chunk - 1;
	return (b - a == 63 ? ~0ULL : ((1ULL << (b - a + 1)) - 1)) << a;
}

/* Bit p: page p holds (part of) object @i */
static uint64_t slab_pages_of(const struct slab *s, unsigned i)
{
	size_t from = s->first + i * s->size, to = from + s->size - 1;
	unsigned a = (unsigned)(from / slab_page);
	unsigned b = (unsigned)(to / slab_page);

	return (b - a == 63 ? ~0ULL : ((1ULL << (b - a + 1)) - 1)) << a;
}

/**
 * slab_init() - set up an empty slab
 * @s:		slab
 * @size:	bytes of each object
 *
 * Return: 0, or -1 (EINVAL) if an object cannot fit in a chunk
 */
int slab_init(struct slab *s, size_t size)
{
	long pg = sysconf(_SC_PAGESIZE);

	memset(s, 0, sizeof(*s));
	slab_page = pg > 0 && (size_t)pg < SLAB_CHUNK ? (size_t)pg
						      : SLAB_CHUNK;
	slab_npages = (unsigned)(SLAB_CHUNK / slab_page);
	if (slab_npages > 64) {
		slab_page = SLAB_CHUNK / 64;	/* book-keeping granule */
		slab_npages = 64;
	}
	s->size = (size + 15) & ~(size_t)15;
	s->first = (sizeof(struct slab_chunk) + 63) & ~(size_t)63;
	if (!size || s->size > SLAB_CHUNK - s->first) {
		errno = EINVAL;
		return -1;
	}
	s->per_chunk = (unsigned)((SLAB_CHUNK - s->first) / s->size);
	if (s->per_chunk > SLAB_MAX_PER_CHUNK)
		s->per_chunk = SLAB_MAX_PER_CHUNK;
	TAILQ_INIT(&s->avail);
	return 0;
}

/* A new chunk, aligned to its size: map twice that, cut the rest off */
static struct slab_chunk *slab_chunk_new(struct slab *s)
{
	char *m = mmap(NULL, 2 * SLAB_CHUNK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;
	size_t head;
	struct slab_chunk *c;

	if (m == MAP_FAILED)
		return NULL;
	a = ((uintptr_t)m + SLAB_CHUNK - 1) & ~(uintptr_t)(SLAB_CHUNK - 1);
	head = a - (uintptr_t)m;
	if (head)
		munmap(m, head);
	munmap((char *)a + SLAB_CHUNK, SLAB_CHUNK - head);
	c = (struct slab_chunk *)a;
	c->free = slab_all(s);
	c->released = 0;
	c->listed = true;
	TAILQ_INSERT_HEAD(&s->avail, c, link);
	SLAB_POISON((char *)c + s->first, SLAB_CHUNK - s->first);
	s->chunks++;
	return c;
}

/**
 * slab_alloc() - one object, its contents undefined
 * @s:		slab
 *
 * Return: the object (16-byte aligned), or NULL with errno ENOMEM
 */
void *slab_alloc(struct slab *s)
{
	struct slab_chunk *c = TAILQ_FIRST(&s->avail);
	unsigned i;
	char *p;

	if (!c)
		c = slab_chunk_new(s);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	i = (unsigned)__builtin_ctzll(c->free);
	c->free &= ~(1ULL << i);
	if (!c->free) {
		TAILQ_REMOVE(&s->avail, c, link);
		c->listed = false;
	}
	c->released &= ~slab_pages_of(s, i);
	s->used++;
	p = (char *)c + s->first + (size_t)i * s->size;
	SLAB_UNPOISON(p, s->size);
	return p;
}

/**
 * slab_free() - give an object back to its chunk (no system call)
 * @s:		slab it came from
 * @p:		object, or NULL
 */
void slab_free(struct slab *s, void *p)
{
	struct slab_chunk *c;
	unsigned i;

	if (!p)
		return;
	c = (struct slab_chunk *)((uintptr_t)p & ~(uintptr_t)(SLAB_CHUNK - 1));
	i = (unsigned)(((char *)p - (char *)c - s->first) / s->size);
	SLAB_POISON(p, s->size);
	c->free |= 1ULL << i;
	s->used--;
	if (c->listed)
		TAILQ_REMOVE(&s->avail, c, link);
	if (c->free == slab_all(s))
		TAILQ_INSERT_TAIL(&s->avail, c, link);
	else
		TAILQ_INSERT_HEAD(&s->avail, c, link);
	c->listed = true;
}

/* Give back the pages of @c that hold only free objects (never page 0,
 * the header's). Return: bytes given back */
static size_t slab_release(const struct slab *s, struct slab_chunk *c)
{
	size_t given = 0;
	unsigned p, from = 0;
	uint64_t objs;

	for (p = 1; p <= slab_npages; p++) {
		bool take = false;

		if (p < slab_npages && !(c->released & (1ULL << p))) {
			objs = slab_objects_on(s, p);
			take = objs && (c->free & objs) == objs;
		}
		if (take && !from)
			from = p;
		if (take || !from)
			continue;
		/* pages [from, p) form a run to give back */
		if (!madvise((char *)c + from * slab_page,
			     (p - from) * slab_page, MADV_DONTNEED)) {
			c->released |= (p - from == 64 ? ~0ULL
					: ((1ULL << (p - from)) - 1)) << from;
			given += (p - from) * slab_page;
		}
		from = 0;
	}
	return given;
}

/**
 * slab_trim() - give memory back: every empty chunk but one is unmapped;
 * the kept one and partly used chunks give back their free pages
 * @s:		slab
 *
 * Return: bytes given back
 */
size_t slab_trim(struct slab *s)
{
	struct slab_chunk *c, *next;
	bool kept = false;
	size_t given = 0;

	for (c = TAILQ_FIRST(&s->avail); c; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->free != slab_all(s) || !kept) {
			kept |= c->free == slab_all(s);
			given += slab_release(s, c);
			continue;
		}
		TAILQ_REMOVE(&s->avail, c, link);
		SLAB_UNPOISON(c, SLAB_CHUNK);
		given += SLAB_CHUNK -
			 (size_t)__builtin_popcountll(c->released) * slab_page;
		munmap(c, SLAB_CHUNK);
		s->chunks--;
	}
	return given;
}

/**
 * slab_resident() - bytes of chunks that may be resident: mapped, and not
 * given back by slab_trim() since (an upper bound: a page never used is
 * not resident either)
 * @s:		slab
 *
 * Return: bytes
 */
size_t slab_resident(const struct slab *s)
{
	const struct slab_chunk *c;
	size_t released = 0;

	TAILQ_FOREACH(c, &s->avail, link)
		released += (size_t)__builtin_popcountll(c->released);
	return s->chunks * SLAB_CHUNK - released * slab_page;
}
