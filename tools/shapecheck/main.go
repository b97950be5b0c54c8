// Command shapecheck fails when a production Go file or function has grown
// past the size at which it stops being one thing:
//
//	go run ./tools/shapecheck lib challenges tools
//
// It walks the given directories and reports, one line each, every Go file
// longer than 600 lines and every function or method longer than 80 lines,
// then exits 1 if it reported any (2 on misuse or an unreadable file).
// Tests (_test.go), testdata directories and generated files (the "Code
// generated ... DO NOT EDIT." header) are not measured: a test's length is
// its table of cases, and nobody edits generated code by hand.
//
// A file's length is the line its last declaration ends on, so trailing
// blank lines do not count; a function's runs from its "func" line to its
// closing brace, doc comment excluded. Function literals count towards the
// function that holds them. tools/floors.sh --check runs it.
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Limits are the largest file and function, in lines, that pass.
type Limits struct {
	FileLines int
	FuncLines int
}

// DefaultLimits are the repository's rule (docs/architecture.md).
var DefaultLimits = Limits{FileLines: 600, FuncLines: 80}

// Violation is one file or function over its limit.
type Violation struct {
	Path  string
	Line  int    // where the function starts; 1 for a file
	Func  string // "" for a whole file; Recv.Name for a method
	Lines int
	Limit int
}

func (v Violation) String() string {
	if v.Func == "" {
		return fmt.Sprintf("%s: file is %d lines (limit %d)", v.Path, v.Lines, v.Limit)
	}
	return fmt.Sprintf("%s:%d: func %s is %d lines (limit %d)", v.Path, v.Line, v.Func, v.Lines, v.Limit)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("shapecheck", flag.ContinueOnError)
	flags.SetOutput(stderr)
	limits := DefaultLimits
	flags.IntVar(&limits.FileLines, "file-lines", limits.FileLines, "longest file that passes, in lines")
	flags.IntVar(&limits.FuncLines, "func-lines", limits.FuncLines, "longest function that passes, in lines")
	flags.Usage = func() { fmt.Fprintln(stderr, "usage: shapecheck [-file-lines N] [-func-lines N] DIR...") }
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() == 0 {
		flags.Usage()
		return 2
	}
	found := false
	for _, dir := range flags.Args() {
		vs, err := Check(dir, limits)
		if err != nil {
			fmt.Fprintf(stderr, "shapecheck: %v\n", err)
			return 2
		}
		for _, v := range vs {
			fmt.Fprintln(stdout, v)
			found = true
		}
	}
	if found {
		return 1
	}
	return 0
}

// Check measures every production Go file under dir, in lexical order.
func Check(dir string, limits Limits) ([]Violation, error) {
	var out []Violation
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		vs, err := checkFile(fset, path, limits)
		out = append(out, vs...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// skipDir says which directories hold no production code: testdata (Go's
// own rule), hidden ones such as .git, and Bazel's output links.
func skipDir(name string) bool {
	return name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "bazel-")
}

// checkFile measures one file. A file that does not parse is an error, not
// a pass: the check would otherwise say nothing about it.
func checkFile(fset *token.FileSet, path string, limits Limits) ([]Violation, error) {
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if ast.IsGenerated(f) {
		return nil, nil
	}
	var out []Violation
	if n := fset.Position(f.End()).Line; n > limits.FileLines {
		out = append(out, Violation{Path: path, Line: 1, Lines: n, Limit: limits.FileLines})
	}
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		start := fset.Position(fd.Pos()).Line
		if n := fset.Position(fd.End()).Line - start + 1; n > limits.FuncLines {
			out = append(out, Violation{Path: path, Line: start, Func: funcName(fd), Lines: n, Limit: limits.FuncLines})
		}
	}
	return out, nil
}

// funcName is a function's name, or Recv.Name for a method.
func funcName(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	switch x := t.(type) {
	case *ast.IndexExpr:
		t = x.X
	case *ast.IndexListExpr:
		t = x.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}
