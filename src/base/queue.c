/* Bounded queue (see queue.h). */
#include "base/queue.h"

#include <errno.h>
#include <stdlib.h>

int tp_queue_init(tp_queue *q, size_t cap)
{
	q->items = calloc(cap ? cap : 1, sizeof(void *));
	if (!q->items)
		return -ENOMEM;
	q->cap = cap ? cap : 1;
	q->head = q->count = 0;
	q->closed = 0;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	return 0;
}

void tp_queue_destroy(tp_queue *q)
{
	free(q->items);
	q->items = NULL;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
}

int tp_queue_push(tp_queue *q, void *item)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->mu);
	if (q->closed) {
		pthread_mutex_unlock(&q->mu);
		return -EPIPE;
	}
	q->items[(q->head + q->count) % q->cap] = item;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void *tp_queue_pop(tp_queue *q)
{
	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->mu);
	void *item = NULL;
	if (q->count) {
		item = q->items[q->head];
		q->head = (q->head + 1) % q->cap;
		q->count--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->mu);
	return item;
}

void tp_queue_close(tp_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}
