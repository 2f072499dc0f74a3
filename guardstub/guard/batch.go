package guard

import (
	"context"
	"sync"
	"sync/atomic"
)

// batchScorer scores feature vectors in batches of at most BATCH_PREDICTION_SIZE.
//
// Batching is opportunistic ("natural batching"): a worker blocks for the first
// queued request, then takes whatever else is already queued, up to the batch
// size, without waiting for more. An idle guard therefore adds no delay (batches
// of one), and a busy one amortises the model over many rows: identical feature
// vectors in one batch are scored once. Workers: one per CPU.
type batchScorer struct {
	queue     chan *scoreRequest
	batchSize int
	score     func(featureKey) Prediction

	batches     atomic.Uint64 // batches run
	rows        atomic.Uint64 // requests answered
	predictions atomic.Uint64 // model evaluations (rows minus in-batch duplicates)
	largest     atomic.Uint64 // largest batch seen
	checksum    atomic.Uint64 // XOR of every prediction's Checksum: keeps the model's work observable

	replies sync.Pool // of chan Prediction, buffered 1
}

type scoreRequest struct {
	key   featureKey
	reply chan Prediction
}

func newBatchScorer(batchSize int, score func(featureKey) Prediction) *batchScorer {
	b := &batchScorer{
		queue:     make(chan *scoreRequest, 4096),
		batchSize: batchSize,
		score:     score,
	}
	b.replies.New = func() any { return make(chan Prediction, 1) }
	return b
}

// start runs n workers until ctx is done; wg tracks them.
func (b *batchScorer) start(ctx context.Context, n int, wg *sync.WaitGroup) {
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.work(ctx)
		}()
	}
}

// predict queues k and waits for its prediction. ok is false when ctx ends first
// (the request was cancelled or the guard is closing).
func (b *batchScorer) predict(ctx context.Context, k featureKey) (Prediction, bool) {
	reply := b.replies.Get().(chan Prediction)
	req := &scoreRequest{key: k, reply: reply}
	select {
	case b.queue <- req:
	case <-ctx.Done():
		b.replies.Put(reply)
		return Prediction{}, false
	}
	select {
	case p := <-reply:
		b.replies.Put(reply)
		return p, true
	case <-ctx.Done():
		// The worker will still send into the buffered reply; drop the channel.
		return Prediction{}, false
	}
}

func (b *batchScorer) work(ctx context.Context) {
	batch := make([]*scoreRequest, 0, b.batchSize)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			return
		case req := <-b.queue:
			batch = append(batch, req)
		}
	fill:
		for len(batch) < b.batchSize {
			select {
			case req := <-b.queue:
				batch = append(batch, req)
			default:
				break fill
			}
		}
		b.runBatch(batch)
	}
}

// runBatch scores one batch, each distinct key once, and answers every request
// as soon as its prediction is known.
func (b *batchScorer) runBatch(batch []*scoreRequest) {
	var evaluated, sum uint64
	scored := make([]Prediction, len(batch))
	for i, req := range batch {
		found := false
		for j, earlier := range batch[:i] { // batches are ≤ BATCH_PREDICTION_SIZE: a scan is cheap
			if earlier.key == req.key {
				scored[i], found = scored[j], true
				break
			}
		}
		if !found {
			scored[i] = b.score(req.key)
			sum ^= scored[i].Checksum
			evaluated++
		}
		req.reply <- scored[i]
	}
	n := uint64(len(batch))
	b.batches.Add(1)
	b.rows.Add(n)
	b.predictions.Add(evaluated)
	for {
		old := b.checksum.Load()
		if b.checksum.CompareAndSwap(old, old^sum) {
			break
		}
	}
	for {
		old := b.largest.Load()
		if n <= old || b.largest.CompareAndSwap(old, n) {
			break
		}
	}
}
