/* Bounded multi-producer multi-consumer queue of pointers, with close. */
#ifndef TAPIR_BASE_QUEUE_H
#define TAPIR_BASE_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef struct tp_queue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	void **items;
	size_t cap, head, count;
	int closed;
} tp_queue;

int tp_queue_init(tp_queue *q, size_t cap);   /* -ENOMEM */
void tp_queue_destroy(tp_queue *q);           /* does not free the items */
/* Blocks while full; -EPIPE when the queue was closed (item not taken). */
int tp_queue_push(tp_queue *q, void *item);
/* Blocks while empty; returns NULL once closed and drained. */
void *tp_queue_pop(tp_queue *q);
/* Wakes every waiter; pushes fail afterwards, pops drain what is left. */
void tp_queue_close(tp_queue *q);

#endif
