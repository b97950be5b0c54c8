package analysis

import (
	"encoding/json"
	"time"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/network"
)

// Net computes Maelstrom's :net result from a network journal: send,
// receive and message counts for all traffic, for traffic touching a
// client, and for traffic between servers (services included).
// msgs-per-op divides by opCount, the number of client invocations, and is
// left out when that is zero, as Maelstrom does.
//
// The workbench adds service-times: per client request type, quantiles
// (ms) of the time from a request's delivery to the node until the node's
// reply to it was sent. A client's latency also counts the time the
// request spent in the network (behind other messages, under Maelstrom's
// delivery); this is the node's own share, e.g. whether it answers a
// broadcast in the step that stores it or holds the reply.
func Net(journal []network.Event, opCount int) checker.Result {
	var t NetTally
	for _, e := range journal {
		t.Add(e)
	}
	return t.Result(opCount)
}

// NetTally counts journal events one at a time, for a run that streams its
// journal to disk instead of keeping it (store.CreateJournal's observer),
// and for analyze, which streams a stored journal through it.
type NetTally struct {
	all, clients, servers netCounts
	service               serviceClock
}

type netCounts struct{ send, recv, msgs int }

// Add counts one event.
func (t *NetTally) Add(e network.Event) {
	add := func(c *netCounts) {
		if e.Kind == network.Send {
			c.send++
			c.msgs++ // every send has a fresh id
		} else {
			c.recv++
		}
	}
	add(&t.all)
	if network.IsClient(e.Msg.Src) || network.IsClient(e.Msg.Dest) {
		add(&t.clients)
		t.service.add(e)
	} else {
		add(&t.servers)
	}
}

// serviceClock pairs a client request's delivery with the reply to it.
type serviceClock struct {
	delivered map[requestKey]delivery // awaiting a reply
	byType    map[string][]float64    // ms
}

type requestKey struct {
	client string
	msgID  int64
}

type delivery struct {
	at  time.Duration
	typ string
}

func (c *serviceClock) add(e network.Event) {
	var body struct {
		Type      string `json:"type"`
		MsgID     *int64 `json:"msg_id"`
		InReplyTo *int64 `json:"in_reply_to"`
	}
	switch {
	case e.Kind == network.Recv && network.IsClient(e.Msg.Src):
		if json.Unmarshal(e.Msg.Body, &body) != nil || body.MsgID == nil {
			return
		}
		if c.delivered == nil {
			c.delivered = map[requestKey]delivery{}
		}
		c.delivered[requestKey{e.Msg.Src, *body.MsgID}] = delivery{e.Time, body.Type}
	case e.Kind == network.Send && network.IsClient(e.Msg.Dest):
		if json.Unmarshal(e.Msg.Body, &body) != nil || body.InReplyTo == nil {
			return
		}
		k := requestKey{e.Msg.Dest, *body.InReplyTo}
		d, ok := c.delivered[k]
		if !ok {
			return // a second reply, or one to a request never delivered
		}
		delete(c.delivered, k)
		if c.byType == nil {
			c.byType = map[string][]float64{}
		}
		c.byType[d.typ] = append(c.byType[d.typ], float64(e.Time-d.at)/1e6)
	}
}

// Result is the :net result of the events counted so far (see Net).
func (t *NetTally) Result(opCount int) checker.Result {
	res := func(c netCounts, perOp bool) map[string]any {
		m := map[string]any{"send-count": c.send, "recv-count": c.recv, "msg-count": c.msgs}
		if perOp && opCount > 0 {
			m["msgs-per-op"] = float64(c.msgs) / float64(opCount)
		}
		return m
	}
	r := checker.Result{
		"all":     res(t.all, true),
		"clients": res(t.clients, false),
		"servers": res(t.servers, true),
		"valid?":  checker.Valid,
	}
	if len(t.service.byType) > 0 {
		st := map[string]any{}
		for typ, xs := range t.service.byType {
			st[typ] = checker.Quantiles(xs)
		}
		r["service-times"] = st
	}
	return r
}
