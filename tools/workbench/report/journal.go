package report

import (
	"encoding/json"
	"fmt"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/network"
	"github.com/glomers/glomers/tools/workbench/store"
)

// maxTooltipBody bounds the body text kept per message: the diagram shows
// it on hover, and a gossip payload can be megabytes.
const maxTooltipBody = 400

// FromNetwork converts the network's journal into report events. Bodies
// are shared, not copied or parsed: only the messages drawn are read.
func FromNetwork(journal []network.Event) []Event {
	out := make([]Event, len(journal))
	for i, e := range journal {
		out[i] = *fromNetwork(e)
	}
	return out
}

func fromNetwork(e network.Event) *Event {
	return &Event{Kind: string(e.Kind), Time: int64(e.Time), ID: e.Msg.ID, Src: e.Msg.Src, Dest: e.Msg.Dest, Raw: e.Msg.Body}
}

// bodyType reads the body's "type", or "?" when it has none.
func bodyType(body json.RawMessage) string {
	var b struct {
		Type any `json:"type"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return "?"
	}
	if s, ok := b.Type.(string); ok {
		return s
	}
	return "?"
}

// WriteStored draws the report of a run already on disk, in its own
// directory, from its history, results and (if present) journal — for
// runs stored by a workbench that did not draw reports, or to redraw them.
func WriteStored(dir string) error {
	loaded, err := store.Load(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return Write(dir, loaded.History, nil, checker.Result(loaded.Results))
}
