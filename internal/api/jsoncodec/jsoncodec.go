// Package jsoncodec is the JSON codec of gpcore's Connect handlers (Connect
// and gRPC-Web JSON). It reads and writes what connect-go's own JSON codec
// does, with one difference: an enum value given by a name the message's
// enum does not have is refused, naming the field, where connect-go's codec
// reads it as the enum's zero value, so that {"billingPeriod":"MONTLY"}
// would order an hourly node and {"powerState":"FOO"} would read as no power
// state at all. Unknown fields are still ignored, so that clients built
// from a newer schema keep working; an unknown enum number (which the
// binary protocols carry as it is) is left for the handlers to refuse.
package jsoncodec

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Names are the codec names the Connect and gRPC-Web protocols use for JSON.
var Names = []string{"json", "json; charset=utf-8"}

// HandlerOptions installs the codec under every name in Names.
func HandlerOptions() connect.HandlerOption {
	opts := make([]connect.HandlerOption, 0, len(Names))
	for _, name := range Names {
		opts = append(opts, connect.WithCodec(Codec{name: name}))
	}
	return connect.WithHandlerOptions(opts...)
}

// Codec is the JSON codec under one name.
type Codec struct{ name string }

// Name implements connect.Codec.
func (c Codec) Name() string { return c.name }

// IsBinary implements connect.Codec.
func (Codec) IsBinary() bool { return false }

// Marshal implements connect.Codec as connect-go's JSON codec does.
func (Codec) Marshal(message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("jsoncodec: %T is not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.Marshal(m)
}

// MarshalAppend is Marshal appending to dst, which connect-go uses to reuse
// its buffers.
func (Codec) MarshalAppend(dst []byte, message any) ([]byte, error) {
	m, ok := message.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("jsoncodec: %T is not a protobuf message", message)
	}
	return protojson.MarshalOptions{}.MarshalAppend(dst, m)
}

// Unmarshal implements connect.Codec. A message that reads strictly (no
// unknown field, no unknown enum name), the usual case, is read once;
// otherwise it is read again ignoring unknown fields, and then refused if
// it names an enum value that does not exist.
func (Codec) Unmarshal(data []byte, message any) error {
	m, ok := message.(proto.Message)
	if !ok {
		return fmt.Errorf("jsoncodec: %T is not a protobuf message", message)
	}
	if len(data) == 0 {
		return errors.New("zero-length payload is not a valid JSON object")
	}
	if protojson.Unmarshal(data, m) == nil {
		return nil
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, m); err != nil {
		return err
	}
	return checkEnums(m.ProtoReflect().Descriptor(), data, "")
}

// checkEnums returns an error naming the first field of the JSON object
// data, a message md (read already, so well formed), whose enum value is a
// name md's enum does not have; path is the field path down to data
// ("pagination." and the like).
func checkEnums(md protoreflect.MessageDescriptor, data json.RawMessage, path string) error {
	if strings.HasPrefix(string(md.FullName()), "google.protobuf.") {
		return nil // well-known types have JSON forms of their own
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return nil
	}
	for key, value := range fields {
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByTextName(key)
		}
		if fd == nil || string(value) == "null" {
			continue // an unknown field, ignored; or no value
		}
		name := path + string(fd.Name())
		var err error
		switch {
		case fd.IsMap():
			var entries map[string]json.RawMessage
			if json.Unmarshal(value, &entries) == nil {
				for _, v := range entries {
					if err = checkValue(fd.MapValue(), v, name); err != nil {
						break
					}
				}
			}
		case fd.IsList():
			var items []json.RawMessage
			if json.Unmarshal(value, &items) == nil {
				for _, v := range items {
					if err = checkValue(fd, v, name); err != nil {
						break
					}
				}
			}
		default:
			err = checkValue(fd, value, name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkValue checks one value of field fd (named name): an enum name must
// be one of its enum's, and a message is checked field by field.
func checkValue(fd protoreflect.FieldDescriptor, value json.RawMessage, name string) error {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		var given string
		if json.Unmarshal(value, &given) != nil {
			return nil // a number
		}
		values := fd.Enum().Values()
		if values.ByName(protoreflect.Name(given)) != nil {
			return nil
		}
		names := make([]string, 0, values.Len())
		for i := range values.Len() {
			if v := values.Get(i); v.Number() != 0 {
				names = append(names, string(v.Name()))
			}
		}
		return fmt.Errorf("%s: %q is not one of %s", name, given, strings.Join(names, ", "))
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkEnums(fd.Message(), value, name+".")
	}
	return nil
}
