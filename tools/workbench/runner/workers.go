package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// Worker threads: one client each, driving a phase's generator one operation at a
// time, retiring the process after an indeterminate completion as Jepsen does.

// worker is one client thread.
type worker struct {
	thread  int
	process int
	node    string
	conn    *client.Conn
	client  workload.Client
	// retired is set when an info completion retired the process of a
	// non-reusable client: the client is replaced at the thread's next
	// invocation, not at once (Jepsen's ClientWorker closes and reopens
	// when it is handed an op with a new process). Until then a late
	// reply from the node still finds the old client registered.
	retired bool
}

// retire moves the worker to its next process after an info completion.
func (w *worker) retire(concurrency int, reusable bool) {
	w.process += concurrency
	if !reusable {
		w.retired = true
	}
}

// refresh replaces a retired worker's client with a fresh one (new c id).
func (w *worker) refresh(pool *client.Pool, wl *workload.Workload, opts workload.Options) {
	if !w.retired {
		return
	}
	w.conn.Close()
	w.conn = pool.Open()
	w.client = wl.NewClient(w.conn, w.node, opts)
	w.retired = false
}

func (r *run) newWorkers() []*worker {
	ws := make([]*worker, r.cfg.Opts.Concurrency)
	for i := range ws {
		node := r.cfg.Opts.Nodes[i%len(r.cfg.Opts.Nodes)]
		conn := r.pool.Open()
		ws[i] = &worker{thread: i, process: i, node: node, conn: conn,
			client: r.cfg.Workload.NewClient(conn, node, r.cfg.Opts)}
	}
	return ws
}

func (r *run) work(ctx context.Context, p *phase, w *worker) {
	for ctx.Err() == nil {
		now := time.Now()
		if !now.Before(p.deadline) {
			return
		}
		p.mu.Lock()
		gctx := workload.GenContext{Thread: w.thread, Process: w.process, Time: now.Sub(r.start), Rand: r.genRand}
		op, st := p.gen.Next(gctx)
		p.mu.Unlock()

		switch st {
		case workload.Exhausted:
			return
		case workload.Pending:
			if !sleepUntil(ctx, minTime(time.Now().Add(10*time.Millisecond), p.deadline)) {
				return
			}
			continue
		}
		if p.sched != nil {
			if _, ok := p.sched.dispatch(ctx, p.deadline); !ok {
				return
			}
		}
		r.invoke(ctx, p, w, op, gctx)
	}
}

func (r *run) invoke(ctx context.Context, p *phase, w *worker, op history.Op, gctx workload.GenContext) {
	op.Type = history.Invoke
	op.Process = w.process
	op.Node = w.node
	op.Final = op.Final || p.final
	op.Error = nil
	w.refresh(r.pool, r.cfg.Workload, r.cfg.Opts)
	inv := r.rec.add(op)

	// The client's own RPC timeout bounds the call; this deadline only
	// guards against a client that forgets to.
	ictx, cancel := context.WithTimeout(ctx, r.rpcTimeout+5*time.Second)
	comp := r.safeInvoke(ictx, w, inv)
	cancel()
	switch comp.Type {
	case history.OK, history.Fail, history.Info:
	default:
		comp.Error = fmt.Sprintf("client returned completion type %q", comp.Type)
		comp.Type = history.Info
	}
	if comp.F == "" {
		comp.F = inv.F
	}
	comp.Process, comp.Node, comp.Final = inv.Process, inv.Node, inv.Final
	comp = r.rec.add(comp)

	p.mu.Lock()
	p.gen.Update(gctx, inv, comp)
	p.mu.Unlock()

	if comp.Type == history.Info {
		// Jepsen retires the process after an indeterminate op; a
		// non-reusable client goes with it, at the next invocation.
		w.retire(r.cfg.Opts.Concurrency, r.cfg.Workload.Reusable)
	}
}

// safeInvoke turns a panicking workload client into an info completion,
// as Jepsen records an op whose client threw.
func (r *run) safeInvoke(ctx context.Context, w *worker, inv history.Op) (comp history.Op) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("workload client panicked", "f", inv.F, "panic", fmt.Sprint(p))
			comp = inv
			comp.Type = history.Info
			comp.Error = fmt.Sprintf("client panicked: %v", p)
		}
	}()
	return w.client.Invoke(ctx, inv)
}
