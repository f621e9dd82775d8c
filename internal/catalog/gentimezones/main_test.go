package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadZoneTabAndRender(t *testing.T) {
	dir := t.TempDir()
	tab := filepath.Join(dir, "zone.tab")
	if err := os.WriteFile(tab, []byte("# comment\nDE\t+5230+01322\tEurope/Berlin\tmost of Germany\nAR\t-3436-05827\tAmerica/Argentina/Buenos_Aires\tBuenos Aires (BA, CF)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	zones, err := readZoneTab(tab)
	if err != nil {
		t.Fatal(err)
	}
	want := []zone{{"Europe/Berlin", "DE"}, {"America/Argentina/Buenos_Aires", "AR"}}
	if len(zones) != len(want) || zones[0] != want[0] || zones[1] != want[1] {
		t.Fatalf("readZoneTab = %v, want %v", zones, want)
	}
	src, err := render(zones, "2099z")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"IANA tz database 2099z; DO NOT EDIT.", `{"Europe/Berlin", "DE"},`} {
		if !strings.Contains(string(src), s) {
			t.Errorf("output lacks %q:\n%s", s, src)
		}
	}

	if err := os.WriteFile(tab, []byte("Europe/Berlin\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readZoneTab(tab); err == nil {
		t.Error("readZoneTab accepted a malformed line")
	}

	zi := filepath.Join(dir, "tzdata.zi")
	if err := os.WriteFile(zi, []byte("# version 2099z\n# ddeps\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := readVersion(zi); err != nil || v != "2099z" {
		t.Errorf("readVersion = %q, %v; want 2099z", v, err)
	}
}
