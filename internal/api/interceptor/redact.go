package interceptor

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Redacted replaces the value of a secret string or bytes field in the audit
// log.
const Redacted = "[REDACTED]"

// maxPayload is the largest request JSON the audit log keeps, in bytes; a
// larger one is replaced by a note of its size.
const maxPayload = 64 << 10

// requestJSON renders a request message for the audit log: protojson with
// every secret redacted. A field is secret when the .proto marks it
// [debug_redact = true], protobuf's own option for "never show this value";
// a test checks that every field whose name says password, secret, token or
// private key is marked, so a new secret field cannot be forgotten. A
// secret singular string or bytes field keeps its place with the value
// Redacted, which shows that one was given; any other secret field is
// removed. Secrets are found at any depth, in lists and map values too.
func requestJSON(msg any) []byte {
	m, ok := msg.(proto.Message)
	if !ok {
		return nil
	}
	if holdsSecrets(m.ProtoReflect().Descriptor()) {
		m = proto.Clone(m)
		redact(m.ProtoReflect())
	}
	b, err := protojson.Marshal(m)
	if err != nil {
		return fmt.Appendf(nil, `{"@error":%q}`, "cannot render the request as JSON: "+err.Error())
	}
	if len(b) > maxPayload {
		return fmt.Appendf(nil, `{"@omitted":"a request of %d bytes; the audit log keeps at most %d"}`, len(b), maxPayload)
	}
	return b
}

// redact redacts the secret fields of m and of every message within it, in
// place.
func redact(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case isSecret(fd):
			switch {
			case fd.Cardinality() != protoreflect.Repeated && fd.Kind() == protoreflect.StringKind:
				m.Set(fd, protoreflect.ValueOfString(Redacted))
			case fd.Cardinality() != protoreflect.Repeated && fd.Kind() == protoreflect.BytesKind:
				m.Set(fd, protoreflect.ValueOfBytes([]byte(Redacted)))
			default:
				m.Clear(fd)
			}
		case fd.IsMap():
			if md := fd.MapValue().Message(); md != nil && holdsSecrets(md) {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					redact(mv.Message())
					return true
				})
			}
		case fd.Message() != nil && holdsSecrets(fd.Message()):
			if fd.IsList() {
				for i := range v.List().Len() {
					redact(v.List().Get(i).Message())
				}
			} else {
				redact(v.Message())
			}
		}
		return true
	})
}

// isSecret reports whether fd is marked [debug_redact = true].
func isSecret(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	return ok && opts.GetDebugRedact()
}

// secretHolders caches holdsSecrets by message name.
var secretHolders sync.Map // protoreflect.FullName -> bool

// holdsSecrets reports whether messages of type md can hold a secret field,
// directly or in a message within; most cannot, and are rendered without a
// copy.
func holdsSecrets(md protoreflect.MessageDescriptor) bool {
	if v, ok := secretHolders.Load(md.FullName()); ok {
		return v.(bool)
	}
	v := scanSecrets(md, map[protoreflect.FullName]bool{})
	secretHolders.Store(md.FullName(), v)
	return v
}

// scanSecrets walks md's fields and the messages they hold, each once.
func scanSecrets(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if isSecret(fd) {
			return true
		}
		if fd.IsMap() {
			fd = fd.MapValue()
		}
		if sub := fd.Message(); sub != nil && scanSecrets(sub, seen) {
			return true
		}
	}
	return false
}
