package linkv

import (
	"html"
	"io"

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
}

// Visualize writes porcupine's interactive visualisation (HTML with its
// own script) of the keys whose histories cannot be linearized: their
// operations per client on a time line, the longest partial
// linearizations, and where each one gets stuck. It returns how many keys
// it drew; with none it writes nothing.
func Visualize(h history.History, w io.Writer) (int, error) {
	ops, _ := keyOps(h)
	var failing []porcupine.Operation
	n := 0
	for k, kops := range ops {
		if res, _ := porcupine.CheckOperationsVerbose(casRegister, kops, CheckTimeout); res != porcupine.Illegal {
			continue
		}
		n++
		for _, op := range kops {
			op.Input = keyed{key: k, in: op.Input.(regInput)}
			failing = append(failing, op)
		}
	}
	if n == 0 {
		return 0, nil
	}
	_, info := porcupine.CheckOperationsVerbose(keyedRegister, failing, CheckTimeout)
	return n, porcupine.Visualize(keyedRegister, info, w)
}
