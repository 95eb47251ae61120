package routing

import (
	"reflect"
	"slices"
	"testing"
)

// sameQueue must compare every field, or a changed setting would be
// ignored by SetQueue.
func TestSameQueueComparesEveryField(t *testing.T) {
	base := Queue{ID: "q", Bullseye: []Ring{{MinProficiency: 1}}}
	if !sameQueue(base, base) {
		t.Fatal("equal queues differ")
	}
	v := reflect.ValueOf(&base).Elem()
	for i := range v.NumField() {
		changed := base
		changed.Bullseye = slices.Clone(base.Bullseye)
		f := reflect.ValueOf(&changed).Elem().Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(f.String() + "x")
		case reflect.Int64:
			f.SetInt(f.Int() + 1)
		case reflect.Float64:
			f.SetFloat(f.Float() + 1)
		case reflect.Slice:
			changed.Bullseye[0].MinProficiency = 2
		default:
			t.Fatalf("field %s: kind %s not handled by this test", v.Type().Field(i).Name, f.Kind())
		}
		if sameQueue(base, changed) {
			t.Errorf("a change of %s is not seen", v.Type().Field(i).Name)
		}
	}
}
