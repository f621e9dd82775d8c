// Package version reports the build version of the gpcore binary.
package version

import "runtime/debug"

// Override is set at link time with -ldflags "-X github.com/gpcore/gpcore/internal/version.Override=v1.2.3".
var Override string

// String returns the release version if one was linked in, otherwise the VCS
// revision the binary was built from (with "+dirty" for a modified tree), or
// "devel" when neither is known.
func String() string {
	if Override != "" {
		return Override
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}
