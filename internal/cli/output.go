package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"gopkg.in/yaml.v3"
)

// format is the value of -o/--output: how a command prints the API's answer.
type format string

// The output formats.
const (
	formatTable format = "table"
	formatJSON  format = "json"
	formatYAML  format = "yaml"
)

// String returns the format's name (pflag.Value).
func (f *format) String() string { return string(*f) }

// Set accepts table, json or yaml (pflag.Value).
func (f *format) Set(s string) error {
	switch v := format(s); v {
	case formatTable, formatJSON, formatYAML:
		*f = v
		return nil
	}
	return fmt.Errorf("%q is not an output format: table, json or yaml", s)
}

// Type names the flag's value in help (pflag.Value).
func (*format) Type() string { return "format" }

// printMessage writes msg to w in format f: the API's JSON (protojson, the
// Connect JSON names), indented the same way every time so the output is
// stable, or that document as YAML in the same field order. For formatTable
// it calls human instead.
func printMessage(w io.Writer, f format, msg proto.Message, human func(io.Writer) error) error {
	if f == formatTable {
		return human(w)
	}
	raw, err := protojson.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encode the answer as JSON: %w", err)
	}
	// protojson varies its spacing on purpose; re-indenting makes it stable.
	var doc bytes.Buffer
	if err := json.Indent(&doc, raw, "", "  "); err != nil {
		return fmt.Errorf("indent the answer's JSON: %w", err)
	}
	doc.WriteByte('\n')
	if f == formatYAML {
		return writeYAML(w, doc.Bytes())
	}
	_, err = w.Write(doc.Bytes())
	return err
}

// writeYAML writes the JSON document doc as block-style YAML, keeping its key
// order (JSON is YAML; only the flow style is dropped). Strings stay strings:
// the encoder quotes a value such as "12" that would otherwise read as a
// number.
func writeYAML(w io.Writer, doc []byte) error {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return fmt.Errorf("convert the answer to YAML: %w", err)
	}
	blockStyle(&n)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return fmt.Errorf("write the answer as YAML: %w", err)
	}
	return enc.Close()
}

// blockStyle clears the style of n and everything below it: block mappings
// and sequences, and scalars quoted only where YAML needs it.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// table writes aligned columns under an upper-case header. An empty cell is
// shown as "-".
type table struct{ tw *tabwriter.Writer }

// newTable starts a table on w with the given column headers; none for a
// list of "name: value" lines.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds a line of cells.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush writes the table out.
func (t *table) flush() error { return t.tw.Flush() }

// enumName is an enum value's name without its type's prefix, in lower case
// (PROJECT_MEMBER_ROLE_OWNER is "owner"); the UNSPECIFIED value is "". The
// prefix is the zero value's name without UNSPECIFIED, as every GPCORE enum
// is declared.
func enumName(v protoreflect.Enum) string {
	values := v.Descriptor().Values()
	if v.Number() == 0 {
		return ""
	}
	val := values.ByNumber(v.Number())
	if val == nil {
		return fmt.Sprint(v.Number())
	}
	prefix := strings.TrimSuffix(string(values.ByNumber(0).Name()), "UNSPECIFIED")
	return strings.ToLower(strings.TrimPrefix(string(val.Name()), prefix))
}

// upperName is enumName in upper case, as states are written in the API
// reference (DEPLOY_WAIT).
func upperName(v protoreflect.Enum) string { return strings.ToUpper(enumName(v)) }

// when shows a timestamp in local time to the minute; unset is "".
func when(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return ""
	}
	return ts.AsTime().Local().Format("2006-01-02 15:04")
}

// yesNo shows a flag as "yes" or "no".
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
