package apiconv

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/gpcore/gpcore/internal/fault"
)

// Enum maps a domain enum value, stored as the proto name without its
// prefix (e.g. "AVAILABLE"), to the proto enum value prefix+name
// (DATACENTER_STATUS_AVAILABLE). An unknown name maps to 0, UNSPECIFIED.
func Enum[E ~int32, S ~string](values map[string]int32, prefix string, name S) E {
	return E(values[prefix+string(name)])
}

// EnumName is the reverse of Enum for request fields: the domain name of a
// proto enum value. UNSPECIFIED gives ""; a number the enum does not define
// is InvalidArgument naming field.
func EnumName[S ~string](field string, e protoreflect.Enum, prefix string) (S, error) {
	if e.Number() == 0 {
		return "", nil
	}
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return "", fault.Invalid(field, "unknown %s value %d", e.Descriptor().Name(), e.Number())
	}
	name := string(v.Name())
	if len(name) < len(prefix) || name[:len(prefix)] != prefix {
		return "", fault.Invalid(field, "unknown %s value %s", e.Descriptor().Name(), name)
	}
	return S(name[len(prefix):]), nil
}

// RequiredEnumName is EnumName for a field that must be set: UNSPECIFIED is
// InvalidArgument naming field and the accepted names. Connect JSON drops an
// enum name the API does not know, so a field left out and a name outside
// the enum both arrive as UNSPECIFIED; the message says so for both.
func RequiredEnumName[S ~string](field string, e protoreflect.Enum, prefix string, accepted ...S) (S, error) {
	name, err := EnumName[S](field, e, prefix)
	if err == nil && name == "" {
		names := make([]string, len(accepted))
		for i, a := range accepted {
			names[i] = string(a)
		}
		err = fault.Invalid(field, "missing or not one of %s", strings.Join(names, ", "))
	}
	return name, err
}
