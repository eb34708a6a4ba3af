package account

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mfagate/mfagate"
)

// ImportRow is one account read from a CSV file, with the line it came
// from so errors can point at it.
type ImportRow struct {
	NewUser
	Line int
}

// importColumns are the columns of an import file, in order.
var importColumns = []string{"username", "email", "name", "roles"}

// MaxImportRows bounds one import so a wrong file cannot exhaust memory.
const MaxImportRows = 100_000

// ParseImportCSV reads an import file: a header line
// "username,email,name,roles" then one account per line; roles are
// separated by commas (quote the field), semicolons or spaces. Any
// problem is an EINVALID error naming the line.
func ParseImportCSV(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var rows []ImportRow
	for first := true; ; first = false {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, mfagate.Errorf(mfagate.EINVALID, "line %d: the CSV is malformed: %v", pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("read CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for _, f := range rec {
			if !utf8.ValidString(f) {
				return nil, mfagate.Errorf(mfagate.EINVALID, "line %d: the file must be UTF-8 text", line)
			}
		}
		if first {
			if err := checkHeader(rec); err != nil {
				return nil, err
			}
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(importColumns) {
			return nil, mfagate.Errorf(mfagate.EINVALID, "line %d: expected %s (%s), found %d",
				line, mfagate.Plural(len(importColumns), "column", "columns"), strings.Join(importColumns, ","), len(rec))
		}
		if len(rows) == MaxImportRows {
			return nil, mfagate.Errorf(mfagate.EINVALID, "line %d: an import holds at most %s; split the file", line, mfagate.Plural(MaxImportRows, "account", "accounts"))
		}
		rows = append(rows, ImportRow{Line: line, NewUser: NewUser{
			Username: rec[0], Email: rec[1], Name: rec[2], Roles: SplitRoles(rec[3]),
		}})
	}
	if rows == nil {
		return nil, mfagate.Errorf(mfagate.EINVALID, "the file has no accounts after the header line")
	}
	return rows, nil
}

func checkHeader(rec []string) error {
	got := make([]string, len(rec))
	for i, f := range rec {
		got[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(f, "\uFEFF")))
	}
	if !slices.Equal(got, importColumns) {
		return mfagate.Errorf(mfagate.EINVALID, "line 1: the first line must be the header %q, found %q",
			strings.Join(importColumns, ","), clip(strings.Join(rec, ",")))
	}
	return nil
}

// lineError names the file's line in an error about one of rows.
func lineError(rows []ImportRow, err error) error {
	var br *badRow
	if errors.As(err, &br) {
		return mfagate.Errorf(mfagate.ErrorCode(err), "line %d: %s", rows[br.i].Line, mfagate.ErrorMessage(err))
	}
	return err
}
