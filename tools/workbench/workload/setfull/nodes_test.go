package setfull

import (
	"strings"
	"testing"
)

func TestNodeListIsShortForBigClusters(t *testing.T) {
	nodes := []string{"n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10"}
	if got := nodeList(nodes); !strings.HasSuffix(got, "n7 and 3 more") {
		t.Errorf("nodeList = %q", got)
	}
}
