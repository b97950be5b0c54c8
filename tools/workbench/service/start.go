package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"

	"github.com/glomers/glomers/tools/workbench/network"
)

// Start registers each service on net under its name and serves requests
// until stop is called. Each service has one worker that takes requests off
// its inbox in delivery order, so requests are applied serially, as in
// Maelstrom. A reply carries in_reply_to (the request's msg_id, null if it
// had none) and no msg_id, and goes to the request's src. A request the
// service cannot handle is logged and never answered. stop waits for the
// workers and removes the services from the network.
func Start(ctx context.Context, net *network.Network, services map[string]Service, log *slog.Logger) (stop func()) {
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for name, svc := range services {
		inbox := net.Join(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(ctx, net, inbox, name, svc, log)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
		for name := range services {
			net.Leave(name)
		}
	}
}

func serve(ctx context.Context, net *network.Network, inbox *network.Inbox, name string, svc Service, log *slog.Logger) {
	for {
		msg, err := inbox.Recv(ctx)
		if err != nil {
			if !errors.Is(err, network.ErrClosed) && ctx.Err() == nil {
				log.Warn("service stopped receiving", "service", name, "err", err)
			}
			return
		}
		reply, err := Reply(svc, msg.Src, msg.Body)
		if err != nil {
			log.Warn("service error; no reply sent", "service", name, "src", msg.Src, "body", string(msg.Body), "err", err)
			continue
		}
		if _, err := net.Send(name, msg.Src, reply); err != nil {
			// The caller has left (a closed client): Maelstrom would fail an
			// assertion here; we drop the reply.
			log.Debug("service reply dropped", "service", name, "err", err)
		}
	}
}

// Reply decodes a raw request body, lets svc handle it and encodes the
// reply body with in_reply_to set. Numbers are kept as written, so 1 and
// 1.0 stay distinct.
func Reply(svc Service, src string, raw json.RawMessage) (json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var body map[string]any
	if err := d.Decode(&body); err != nil {
		return nil, err
	}
	if body == nil {
		return nil, errors.New("request body is not a JSON object")
	}
	reply, err := svc.Handle(src, body)
	if err != nil {
		return nil, err
	}
	reply["in_reply_to"] = body["msg_id"]
	return json.Marshal(reply)
}
