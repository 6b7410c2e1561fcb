package netlab

import "container/heap"

// frameQueue holds the frames of one output port in order of delivery
// time, and of arrival among frames due at the same time.
type frameQueue struct{ h frameHeap }

func (q *frameQueue) Len() int      { return len(q.h) }
func (q *frameQueue) peek() queued  { return q.h[0] }
func (q *frameQueue) push(f queued) { heap.Push(&q.h, f) }
func (q *frameQueue) pop() queued   { return heap.Pop(&q.h).(queued) }

type frameHeap []queued

func (h frameHeap) Len() int { return len(h) }
func (h frameHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h frameHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *frameHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *frameHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return f
}
