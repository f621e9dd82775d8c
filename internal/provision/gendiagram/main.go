// Command gendiagram writes docs/states.md, the drawing of the provisioning
// transition table, from provision.Diagram. Run it with
// `go generate ./internal/provision` after changing the table and commit the
// result; the provision package's tests fail while the file is stale.
//
// Usage:
//
//	gendiagram -o ../../docs/states.md
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"

	"github.com/gpcore/gpcore/internal/provision"
)

func main() {
	out := flag.String("o", "states.md", "output file")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("gendiagram: ")
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, provision.Diagram(), 0o644); err != nil {
		log.Fatal(err)
	}
}
