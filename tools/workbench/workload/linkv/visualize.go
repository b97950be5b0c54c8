package linkv

import (
	"fmt"
	"html"
	"io"
	"sort"

	"github.com/anishathalye/porcupine"
	"github.com/glomers/glomers/tools/workbench/history"
	"github.com/glomers/glomers/tools/workbench/store"
)

// VisualizationFile is where porcupine's view of a failed lin-kv run is
// stored beside its results (the store names it).
const VisualizationFile = store.LinearizabilityName

// keyed is one operation's input tagged with its key, so that one
// porcupine model can hold every failing key as its own partition.
type keyed struct {
	key string
	in  regInput
}

var keyedRegister = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		var order []string
		byKey := map[string][]porcupine.Operation{}
		for _, op := range ops {
			k := op.Input.(keyed).key
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		parts := make([][]porcupine.Operation, len(order))
		for i, k := range order {
			parts[i] = byKey[k]
		}
		return parts
	},
	Init: casRegister.Init,
	Step: func(state, input, output any) (bool, any) {
		return casRegister.Step(state, input.(keyed).in, output)
	},
	DescribeOperation: func(input, output any) string {
		k := input.(keyed)
		return "key " + k.key + ": " + casRegister.DescribeOperation(k.in, output)
	},
	// Porcupine puts state descriptions into the page as HTML; the values
	// come from the history, so they are escaped.
	DescribeState: func(state any) string { return html.EscapeString(casRegister.DescribeState(state)) },
	DescribeOperationMetadata: func(meta any) string {
		m, ok := meta.(*opMeta)
		if !ok {
			return ""
		}
		s := fmt.Sprintf("op %d", m.index)
		if m.node != "" {
			s += " on " + m.node
		}
		return html.EscapeString(s)
	},
}

// stuckTag is the row of the page under the clients where the operations
// that cannot be linearized are marked, each spanning its own call.
const stuckTag = "cannot be linearized"

// stuckAnnotations mark, for one failing key, the operations that cannot
// follow its longest linearizable prefixes, with the value the register
// held there.
func stuckAnnotations(key string, ops []porcupine.Operation, imps []impasse) []porcupine.Annotation {
	var out []porcupine.Annotation
	marked := map[int]bool{}
	for _, imp := range imps {
		for _, id := range imp.stuck[:min(len(imp.stuck), maxStuck)] {
			if marked[id] {
				continue
			}
			marked[id] = true
			op := ops[id]
			m := op.Metadata.(*opMeta)
			desc := fmt.Sprintf("key %s op %d: %s", key, m.index, casRegister.DescribeOperation(op.Input, op.Output))
			details := fmt.Sprintf("%s (%s); after the longest linearizable prefix found (%d ops) the register held %s",
				desc, where(op), len(imp.prefix), imp.held)
			out = append(out, porcupine.Annotation{
				Tag:             stuckTag,
				Start:           op.Call,
				End:             op.Return,
				Description:     desc, // the page sets these as text
				Details:         details,
				BackgroundColor: "#f4a6a6",
			})
		}
	}
	return out
}

// Visualize writes porcupine's interactive visualisation (HTML with its
// own script) of the keys whose histories cannot be linearized: their
// operations per client on a time line, the longest partial
// linearizations, and where each one gets stuck, with the operations the
// checker names as not linearizable marked in a row of their own. It
// returns how many keys it drew; with none it writes nothing.
func Visualize(h history.History, w io.Writer) (int, error) {
	ops, _ := keyOps(h)
	names := make([]string, 0, len(ops))
	for k := range ops {
		names = append(names, k)
	}
	sort.Strings(names)
	var failing []porcupine.Operation
	var marks []porcupine.Annotation
	n := 0
	for _, k := range names {
		kops := ops[k]
		res, info := porcupine.CheckOperationsVerbose(casRegister, kops, CheckTimeout)
		if res != porcupine.Illegal {
			continue
		}
		n++
		marks = append(marks, stuckAnnotations(k, kops, impasses(kops, info))...)
		for _, op := range kops {
			op.Input = keyed{key: k, in: op.Input.(regInput)}
			failing = append(failing, op)
		}
	}
	if n == 0 {
		return 0, nil
	}
	_, info := porcupine.CheckOperationsVerbose(keyedRegister, failing, CheckTimeout)
	info.AddAnnotations(marks)
	return n, porcupine.Visualize(keyedRegister, info, w)
}
