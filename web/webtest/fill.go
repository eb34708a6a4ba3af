package webtest

import (
	"reflect"
	"time"
)

// FillTime is the time Fill writes into every time.Time.
var FillTime = time.Date(2027, 6, 1, 9, 30, 0, 0, time.UTC)

// Fill sets every field reachable from ptr (a pointer to a view) so that
// a template drawing it reaches all of its counts with n: each int is n,
// each slice and map holds n elements (themselves filled), each pointer
// points at a filled value, each bool is on, each string is word and
// each time is FillTime. Interfaces and functions are left alone, and a
// type met again inside itself is not entered twice (no endless lists).
// Tests then set by hand what a template compares with a fixed value,
// such as a method's name.
func Fill(ptr any, n int, on bool, word string) {
	f := filler{n: n, on: on, word: word, seen: map[reflect.Type]bool{}}
	f.fill(reflect.ValueOf(ptr).Elem())
}

type filler struct {
	n    int
	on   bool
	word string
	seen map[reflect.Type]bool
}

func (f filler) fill(v reflect.Value) {
	if v.Kind() == reflect.Struct && v.Type() != reflect.TypeOf(time.Time{}) {
		// An embedded view of an unexported type cannot be set as a
		// whole, but its exported fields can.
		f.fillStruct(v)
		return
	}
	if !v.CanSet() {
		return
	}
	if v.Type() == reflect.TypeOf(time.Time{}) {
		v.Set(reflect.ValueOf(FillTime))
		return
	}
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		v.SetInt(int64(time.Duration(f.n) * time.Minute))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.on)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n))
	case reflect.String:
		v.SetString(f.word)
	case reflect.Pointer:
		if f.seen[v.Type().Elem()] {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 { // bytes: hashes, not text
			return
		}
		s := reflect.MakeSlice(v.Type(), f.n, f.n)
		for i := range f.n {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			f.fill(v.Index(i))
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range f.n {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			if k.Kind() == reflect.String {
				k.SetString(f.word + string(rune('a'+i)))
			} else if k.CanInt() {
				k.SetInt(int64(i))
			}
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}

func (f filler) fillStruct(v reflect.Value) {
	if f.seen[v.Type()] {
		return
	}
	f.seen[v.Type()] = true
	defer delete(f.seen, v.Type())
	for i := range v.NumField() {
		f.fill(v.Field(i))
	}
}
