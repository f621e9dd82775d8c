package identity_test

import (
	"testing"
	"time"

	"github.com/gpcore/gpcore/internal/fault"
)

func TestUpdateTimezone(t *testing.T) {
	svc, _, clk := newService(t)
	jane := register(t, svc, "jane@example.com")

	clk.Add(time.Hour)
	for _, tz := range []string{"Europe/Berlin", "America/Argentina/Buenos_Aires", "Europe/Kyiv", "UTC"} {
		u, err := svc.UpdateTimezone(t.Context(), jane.ID, tz)
		if err != nil {
			t.Fatalf("UpdateTimezone(%q): %v", tz, err)
		}
		if u.Timezone != tz || !u.UpdatedAt.Equal(clk.Now()) {
			t.Fatalf("after UpdateTimezone(%q): timezone %q, updated %v", tz, u.Timezone, u.UpdatedAt)
		}
	}

	// The same zone again changes nothing.
	before := clk.Now()
	clk.Add(time.Hour)
	u, err := svc.UpdateTimezone(t.Context(), jane.ID, "UTC")
	if err != nil || u.Timezone != "UTC" || !u.UpdatedAt.Equal(before) {
		t.Fatalf("UpdateTimezone(same zone) = %q updated %v, %v; want no change", u.Timezone, u.UpdatedAt, err)
	}
}

func TestUpdateTimezoneRefusals(t *testing.T) {
	svc, _, _ := newService(t)
	jane := register(t, svc, "jane@example.com")
	for _, tz := range []string{
		"",                 // nothing
		"Local",            // the server's zone, whatever that is
		"CET",              // an abbreviation LoadLocation knows
		"EST",              // another one
		"Etc/GMT+1",        // a fixed offset, no IANA location
		"Europe/Kiev",      // an old alias of Europe/Kyiv
		"europe/berlin",    // wrong case
		" Europe/Berlin",   // surrounding space
		"Mars/Olympus",     // made up
		"../../etc/passwd", // a path
	} {
		_, err := svc.UpdateTimezone(t.Context(), jane.ID, tz)
		wantFault(t, err, fault.KindInvalidArgument, "timezone")
	}
	got, err := svc.GetUser(t.Context(), jane.ID)
	if err != nil || got.Timezone != "UTC" {
		t.Fatalf("after refusals the time zone is %q, %v; want UTC", got.Timezone, err)
	}

	_, err = svc.UpdateTimezone(t.Context(), "0b6d9d1e-7a35-4a4e-9f5c-0f7f5d8f2d11", "Europe/Berlin")
	wantFault(t, err, fault.KindNotFound, "")
}
