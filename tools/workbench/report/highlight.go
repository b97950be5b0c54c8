package report

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/glomers/glomers/tools/workbench/checker"
	"github.com/glomers/glomers/tools/workbench/edn"
	"github.com/glomers/glomers/tools/workbench/history"
)

// The messages that matter to a failure are marked in the diagram: for
// each op a failed checker's first-error line names ("broadcast to n2 at op
// 8", "the final read invoked at op 196 (process 3 on n3"), the client's
// request that op sent to its node and the node's reply; and every message
// that carries the value the line is about ("value 7 lost"). The diagram
// opens at the first of them (index.html scrolls there).

// maxLabelBody caps the body shown next to a message's type on its arrow:
// Maelstrom's diagrams print "broadcast {:message 7}"; a long body is cut.
const maxLabelBody = 40

// valueRef finds the value a first-error line is about: "value 7 lost".
var valueRef = regexp.MustCompile(`\bvalue (\S+) lost\b`)

// allOpRefs finds every "op 42" of a first-error line.
var allOpRefs = regexp.MustCompile(`\bop (\d+)\b`)

// failureRefs are the ops and the value that a failed run's first-error
// lines name.
type failureRefs struct {
	ops    []history.Op
	values []string // as JSON text, e.g. "7"
}

func failureRefsOf(h history.History, results checker.Result) failureRefs {
	var refs failureRefs
	if !invalid(results["valid?"]) {
		return refs
	}
	byIndex := make(map[int]history.Op, len(h))
	for _, op := range h {
		byIndex[op.Index] = op
	}
	names := make([]string, 0, len(results))
	for k := range results {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		sub, ok := results[k].(map[string]any)
		if !ok {
			if r, isResult := results[k].(checker.Result); isResult {
				sub, ok = map[string]any(r), true
			}
		}
		if !ok || !invalid(sub["valid?"]) {
			continue
		}
		line, _ := sub["first-error"].(string)
		for _, m := range allOpRefs.FindAllStringSubmatch(line, -1) {
			var idx int
			fmt.Sscan(m[1], &idx)
			if op, ok := byIndex[idx]; ok {
				refs.ops = append(refs.ops, op)
			}
		}
		if m := valueRef.FindStringSubmatch(line); m != nil {
			refs.values = append(refs.values, m[1])
		}
	}
	return refs
}

var (
	msgIDField     = regexp.MustCompile(`"msg_id"\s*:\s*(\d+)`)
	inReplyToField = regexp.MustCompile(`"in_reply_to"\s*:\s*(\d+)`)
)

func bodyField(re *regexp.Regexp, body string) string {
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// markHighlights marks the messages of msgs that refs point at.
func markHighlights(msgs []*diagramMessage, refs failureRefs) {
	for _, op := range refs.ops {
		if op.Node == "" || op.Type != history.Invoke {
			continue
		}
		// The request: the first message of the op's type from a client to
		// the op's node, sent when the op was invoked or just after.
		var req *diagramMessage
		for _, m := range msgs {
			if m.dest == op.Node && m.typ == op.F && !isNodeOrService(m.src) && m.send.Time >= op.Time {
				req = m
				break
			}
		}
		if req == nil {
			continue
		}
		req.highlight = true
		id := bodyField(msgIDField, req.body)
		for _, m := range msgs {
			if m.src == req.dest && m.dest == req.src && id != "" && bodyField(inReplyToField, m.body) == id {
				m.highlight = true
				break
			}
		}
	}
	for _, v := range refs.values {
		carries := regexp.MustCompile(`"message"\s*:\s*` + regexp.QuoteMeta(v) + `\b`)
		for _, m := range msgs {
			if carries.MatchString(m.body) {
				m.highlight = true
			}
		}
	}
}

// isNodeOrService tells servers (n1) and services (lin-kv) from clients
// (c4), by Maelstrom's naming.
func isNodeOrService(id string) bool {
	return !(len(id) > 1 && id[0] == 'c' && id[1] >= '0' && id[1] <= '9')
}

// labelText is what an arrow says: the body's type and the rest of the
// body in Maelstrom's way (EDN, without type, msg_id and in_reply_to),
// cut to maxLabelBody.
func labelText(m *diagramMessage) string {
	var body map[string]any
	dec := json.NewDecoder(strings.NewReader(m.body))
	dec.UseNumber() // 7 stays 7, not 7.0
	if m.body == "" || dec.Decode(&body) != nil {
		return m.typ
	}
	for _, k := range []string{"type", "msg_id", "in_reply_to"} {
		delete(body, k)
	}
	if len(body) == 0 {
		return m.typ
	}
	b, err := edn.Marshal(body)
	if err != nil {
		return m.typ
	}
	text := strings.Join(strings.Fields(string(b)), " ")
	if r := []rune(text); len(r) > maxLabelBody {
		text = string(r[:maxLabelBody-1]) + "…"
	}
	return m.typ + " " + text
}
