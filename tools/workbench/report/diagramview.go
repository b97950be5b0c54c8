package report

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
)

// diagramView is what index.html needs to show the message diagram well:
// where to open it (the first message the failure points at) and its
// width (for the lane headers that stay in view while scrolling). Both are
// read back from messages.svg's root element, so the page and the diagram
// cannot disagree.
type diagramView struct {
	// FocusY is the y of the first highlighted message, or 0.
	FocusY int
	// Width is the diagram's width in px; HeaderHeight the height of the
	// strip above the first row (caption and lane names) that stays on top.
	Width, HeaderHeight int
}

var (
	svgFocusY = regexp.MustCompile(`data-focus-y="(\d+)"`)
	svgWidth  = regexp.MustCompile(`<svg [^>]*\bwidth="([\d.]+)"`)
)

// readDiagramView reads the root element of dir/messages.svg.
func readDiagramView(dir string) diagramView {
	v := diagramView{HeaderHeight: int(diagramTop) - 6}
	f, err := os.Open(filepath.Join(dir, MessagesFile))
	if err != nil {
		return v
	}
	defer f.Close()
	head := make([]byte, 2048)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if m := svgFocusY.FindSubmatch(head); m != nil {
		v.FocusY, _ = strconv.Atoi(string(m[1]))
	}
	if m := svgWidth.FindSubmatch(head); m != nil {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		v.Width = int(w + 0.5)
	}
	return v
}
