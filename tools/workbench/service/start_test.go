package service

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/glomers/glomers/tools/workbench/network"
)

func TestStartServesOverTheNetwork(t *testing.T) {
	net := network.New(network.Config{})
	stop := Start(context.Background(), net, map[string]Service{LinKV: NewLinearizableKV()}, nil)
	defer stop()
	node := net.Join("n0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	send := func(body string) {
		if _, err := net.Send("n0", LinKV, json.RawMessage(body)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"type":"write","key":"x","value":1.0,"msg_id":7}`)
	send(`{"type":"bogus","msg_id":8}`) // never answered
	send(`{"type":"read","key":"x","msg_id":9}`)
	for _, want := range []string{
		`{"in_reply_to":7,"type":"write_ok"}`,
		`{"in_reply_to":9,"type":"read_ok","value":1.0}`,
	} {
		msg, err := node.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if msg.Src != LinKV || string(msg.Body) != want {
			t.Errorf("got %s from %s, want %s from lin-kv", msg.Body, msg.Src, want)
		}
	}
	stop()
	if _, err := net.Send("n0", LinKV, json.RawMessage(`{}`)); err == nil {
		t.Error("lin-kv still on the network after stop")
	}
}
