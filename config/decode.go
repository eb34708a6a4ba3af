package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
	"go.yaml.in/yaml/v3"
)

// parseYAML reads data as exactly one YAML document whose root is a mapping
// and returns that mapping node.
func parseYAML(data []byte) (root *yaml.Node, err error) {
	if !utf8.Valid(data) {
		return nil, problemError(lineAt(data, firstInvalidUTF8(data)), "the file is not valid UTF-8 text")
	}
	for i, b := range data {
		if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f {
			return nil, problemError(lineAt(data, i), fmt.Sprintf("the file contains the control character 0x%02x, which YAML does not allow", b))
		}
	}
	// The YAML library has panicked on malformed input in past versions;
	// a configuration file must never crash the program, so turn any panic
	// into an ordinary error.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, problemError(0, "the file could not be read as YAML")
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, problemError(0, "the file is empty; it needs at least the database, secrets and mail sections")
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlError(err)
		}
		return nil, problemError(extra.Line, "the file holds more than one YAML document (a second one starts here); keep only one")
	}
	root = &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, problemError(0, "the file is empty; it needs at least the database, secrets and mail sections")
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return nil, problemError(0, "the file is empty; it needs at least the database, secrets and mail sections")
	}
	if root.Kind != yaml.MappingNode {
		return nil, problemError(root.Line, "the file must be a mapping of keys such as server: and database:, not "+describe(root))
	}
	return root, nil
}

func problemError(line int, msg string) error {
	return &Error{Problems: []Problem{{Line: line, Message: msg}}}
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlError turns a syntax error from the YAML library into a Problem with
// the line number lifted out of the message.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.Join(strings.Fields(msg), " ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		var line int
		fmt.Sscan(m[1], &line)
		return problemError(line, "invalid YAML: "+m[2])
	}
	return problemError(0, "invalid YAML: "+msg)
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

func lineAt(data []byte, offset int) int {
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}

// A decoder walks a yaml.Node tree against a Go value, using the yaml tags
// of struct fields as the only known keys, and collects every problem.
type decoder struct {
	src      sources
	problems []Problem
}

func (d *decoder) fail(line int, format string, args ...any) {
	d.problems = append(d.problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

var durationType = reflect.TypeFor[time.Duration]()

// decode stores node n into v. path is v's dotted key path. A null value
// leaves v as it was, so defaults survive an empty key.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	n = deref(n)
	if n == nil || isNull(n) {
		return
	}
	switch {
	case v.Type() == durationType:
		if s, ok := d.scalar(n, path, "a duration"); ok {
			dur, err := parseDuration(s)
			if err != nil {
				d.fail(n.Line, "%s: %v", path, err)
				return
			}
			v.SetInt(int64(dur))
		}
	case v.Kind() == reflect.Struct:
		d.mapping(n, v, path)
	case v.Kind() == reflect.Pointer && v.Type().Elem().Kind() == reflect.Struct:
		p := reflect.New(v.Type().Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case v.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n.Line, "%s: expected a list, got %s", path, describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.src.lines[p] = c.Line
			d.decode(c, s.Index(i), p)
		}
		v.Set(s)
	case v.Kind() == reflect.String:
		if s, ok := d.scalar(n, path, "a string"); ok {
			v.SetString(s)
		}
	case v.Kind() == reflect.Int:
		if s, ok := d.scalar(n, path, "a whole number"); ok {
			i, err := parseInt(s)
			if err != nil {
				d.fail(n.Line, "%s: %v", path, err)
				return
			}
			v.SetInt(int64(i))
		}
	case v.Kind() == reflect.Bool:
		if s, ok := d.scalar(n, path, "true or false"); ok {
			b, err := parseBool(s)
			if err != nil {
				d.fail(n.Line, "%s: %v", path, err)
				return
			}
			v.SetBool(b)
		}
	default:
		// Only reachable if a field of a new type is added without
		// teaching decode about it; report rather than panic.
		d.fail(n.Line, "%s: values of type %s cannot be configured", path, v.Type())
	}
}

func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n.Line, "%s: expected %s, got %s", path, want, describe(n))
		return "", false
	}
	return n.Value, true
}

// mapping decodes a YAML mapping into struct v, refusing unknown and
// duplicate keys.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	where := path
	if where == "" {
		where = "the top level"
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n.Line, "%s: expected a mapping of keys, got %s", where, describe(n))
		return
	}
	fields := yamlFields(v.Type())
	seen := make(map[string]int)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k.Line, "keys in %s must be plain names, not %s", where, describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			d.fail(k.Line, "merge keys (<<) are not supported in %s; write the keys out", where)
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			d.fail(k.Line, "duplicate key %q in %s (first set on line %d)", key, where, first)
			continue
		}
		seen[key] = k.Line
		idx, ok := fields.index(key)
		if !ok {
			msg := fmt.Sprintf("unknown key %q in %s (known keys: %s)", key, where, strings.Join(fields.names, ", "))
			if s := mfagate.Suggest(key, fields.names); s != "" {
				msg += fmt.Sprintf(", did you mean %q?", s)
			}
			d.fail(k.Line, "%s", msg)
			continue
		}
		p := joinPath(path, key)
		d.src.lines[p] = k.Line
		d.decode(val, v.Field(idx), p)
	}
}

// fieldList is the keys of a struct, in declaration order.
type fieldList struct {
	names []string
	idx   []int
}

func (f fieldList) index(name string) (int, bool) {
	for i, n := range f.names {
		if n == name {
			return f.idx[i], true
		}
	}
	return 0, false
}

// yamlFields lists the exported fields of struct type t that have a yaml
// tag naming a key.
func yamlFields(t reflect.Type) fieldList {
	var f fieldList
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f.names = append(f.names, name)
		f.idx = append(f.idx, i)
	}
	return f
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// deref follows aliases. The YAML parser refuses an alias to an anchor
// that contains it, but the loop is bounded all the same.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "an empty value"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}
