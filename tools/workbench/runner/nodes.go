package runner

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/client"
	"github.com/glomers/glomers/tools/workbench/process"
	"github.com/glomers/glomers/tools/workbench/workload"
)

// The nodes as processes: spawned before the main phase, watched during it (a node
// that exits voids the run), stopped at teardown, and the init handshake and client
// set-up that come between spawning and the first operation.

// watchNodes aborts the run as soon as any node's process exits before
// teardown. The returned func stops watching (teardown kills the nodes).
func (r *run) watchNodes(nodes []*process.Node, abort context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-done:
			case <-n.Done():
				r.log.Error("node exited during the run; aborting the run", "node", n.ID())
				abort(fmt.Errorf("%w: node %s", errNodeExited, n.ID()))
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

func (r *run) spawn() ([]*process.Node, error) {
	var nodes []*process.Node
	for _, id := range r.cfg.Opts.Nodes {
		logFile := ""
		if r.cfg.NodeLog != nil {
			logFile = r.cfg.NodeLog(id)
		}
		n, err := process.Start(process.Config{
			ID: id, Bin: r.cfg.Bin, Args: r.cfg.Args, Net: r.net,
			LogFile: logFile, EchoStderr: r.cfg.LogStderr, Logger: r.log,
			Grace: r.cfg.KillGrace,
		})
		if err != nil {
			r.stopNodes(nodes)
			return nil, err
		}
		nodes = append(nodes, n)
	}
	return nodes, nil
}

// stopNodes kills every node in parallel and returns the crash reports of
// nodes that had exited on their own.
func (r *run) stopNodes(nodes []*process.Node) []error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = n.Stop()
		}()
	}
	wg.Wait()
	var crashes []error
	for _, err := range errs {
		if err != nil {
			r.log.Error("node crashed", "err", err)
			crashes = append(crashes, err)
		}
	}
	return crashes
}

// initNodes sends init to every node in parallel, each from a temporary
// client, and requires init_ok within InitTimeout.
func (r *run) initNodes(ctx context.Context) error {
	nodes := r.cfg.Opts.Nodes
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, id := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn := r.pool.Open()
			defer conn.Close()
			ids := make([]any, len(nodes))
			for j, n := range nodes {
				ids[j] = n
			}
			reply, err := conn.Call(ctx, id, map[string]any{"type": "init", "node_id": id, "node_ids": ids}, r.cfg.InitTimeout)
			switch {
			case errors.Is(context.Cause(ctx), errNodeExited):
				errs[i] = fmt.Errorf("init %s: %w", id, context.Cause(ctx))
			case errors.Is(err, workload.ErrTimeout):
				errs[i] = fmt.Errorf("node %s did not reply to init within %v", id, r.cfg.InitTimeout)
			case err != nil && reply == nil:
				errs[i] = fmt.Errorf("init %s: %w", id, err)
			case err != nil:
				errs[i] = fmt.Errorf("node %s answered init with an error: %v (reply %s)", id, err, checker.CompactJSON(reply, 300))
			case reply["type"] != "init_ok":
				errs[i] = fmt.Errorf("node %s answered init with %v, want init_ok (reply %s)", id, reply["type"], checker.CompactJSON(reply, 300))
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("init failed: %w", err)
	}
	r.log.Info("all nodes initialised", "nodes", len(nodes))
	return nil
}

// setupClients opens one client per node, as Jepsen does before the
// workload starts, and runs the workload's Setup on the first.
func (r *run) setupClients(ctx context.Context) error {
	conns := make([]*client.Conn, len(r.cfg.Opts.Nodes))
	for i := range conns {
		conns[i] = r.pool.Open()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if r.cfg.Workload.Setup == nil {
		return nil
	}
	if err := r.cfg.Workload.Setup(ctx, r.cfg.Opts, conns[0]); err != nil {
		return fmt.Errorf("workload setup: %w", err)
	}
	return nil
}
