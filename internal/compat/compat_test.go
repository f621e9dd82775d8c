package compat

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/auth/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/cloud/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/gateway/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/metadata/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/network/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/api/payment/v1"
	_ "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/type/v1"
	sdkoptions "buf.build/gen/go/gportal/gpcore/protocolbuffers/go/gpcore/v1"
	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// protoRoot is our buf module, relative to this package.
var protoRoot = filepath.Join("..", "..", "proto")

// wantMethods is the number of RPC methods in the GPCORE API reference
// (`grep -c '^Service Method' gpcore-api-reference.txt`).
const wantMethods = 86

// skippedPackages are SDK packages the reference does not define.
var skippedPackages = map[protoreflect.FullName]string{
	"gpcore.api.admin.v1": "AdminService: the reference only mentions it, it does not define it",
}

// knownDropped lists SDK elements the reference no longer has, with the reason. Anything else
// the SDK has and proto/ lacks is a mismatch.
var knownDropped = map[protoreflect.FullName]string{
	"gpcore.api.gateway.v1.GatewayService.LagoWebhook": "not in the reference's GatewayService (billing webhooks are not part of the API)",
	"gpcore.api.gateway.v1.LagoWebhookRequest":         "request of the dropped GatewayService.LagoWebhook",
	"gpcore.api.gateway.v1.LagoWebhookResponse":        "response of the dropped GatewayService.LagoWebhook",
}

// referenceOnlyOptions is the gpcore.v1.api option chosen for each method the reference has and
// the SDK lacks ("" = no option, which means an authenticated user, like the SDK's own methods).
var referenceOnlyOptions = map[protoreflect.FullName]string{
	"gpcore.api.cloud.v1.CloudService.CreateProjectCloudProvider":         "",
	"gpcore.api.cloud.v1.CloudService.GetProjectCloudProvider":            "",
	"gpcore.api.cloud.v1.CloudService.ListProjectCloudProviders":          "",
	"gpcore.api.cloud.v1.CloudService.UpdateProjectCloudProvider":         "",
	"gpcore.api.cloud.v1.CloudService.DeleteProjectCloudProvider":         "",
	"gpcore.api.cloud.v1.CloudService.ListProjectCloudProviderResources":  "",
	"gpcore.api.cloud.v1.CloudService.ImportProjectCloudProviderResource": "",
	"gpcore.api.cloud.v2.CloudService.ListBillingProfileBills":            "",
	"gpcore.api.cloud.v2.CloudService.ListBillingProfileProjects":         "",
	"gpcore.api.cloud.v2.CloudService.ListProjectLogs":                    "",
	"gpcore.api.cloud.v2.CloudService.ListNodes":                          "",
	"gpcore.api.cloud.v2.CloudService.ReadinessCheck":                     "AUTHORIZATION_TYPE_PUBLIC",
	"gpcore.api.network.v1.NetworkService.GetArpInformation":              "AUTHORIZATION_TYPE_CLIENT",
	"gpcore.api.network.v1.NetworkService.NotifyArpChange":                "AUTHORIZATION_TYPE_CLIENT",
}

func TestWireCompatibleWithSDK(t *testing.T) {
	ours := compileOurs(t)
	c := &comparer{ours: ours, seenDropped: map[protoreflect.FullName]bool{}}
	sdkFiles := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if !strings.HasPrefix(fd.Path(), "gpcore/") {
			return true
		}
		if _, skip := skippedPackages[fd.Package()]; skip {
			return true
		}
		sdkFiles++
		c.file(fd)
		return true
	})
	if sdkFiles == 0 {
		t.Fatal("no SDK files registered: are the SDK packages imported?")
	}
	for name := range knownDropped {
		if _, ok := ours.byName[name]; ok {
			c.addf("%s: listed as known-dropped but proto/ has it; remove it from knownDropped", name)
		}
		if !c.seenDropped[name] {
			c.addf("%s: listed as known-dropped but the SDK does not have it; remove it from knownDropped", name)
		}
	}
	if len(c.problems) > 0 {
		sort.Strings(c.problems)
		t.Errorf("%d wire mismatches between the SDK and proto/ (%d SDK files checked):\n%s",
			len(c.problems), sdkFiles, strings.Join(c.problems, "\n"))
	}
}

func TestMethodCount(t *testing.T) {
	ours := compileOurs(t)
	var methods []string
	for _, fd := range ours.files {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				methods = append(methods, string(sd.Methods().Get(j).FullName()))
			}
		}
	}
	if len(methods) != wantMethods {
		sort.Strings(methods)
		t.Errorf("proto/ has %d methods, the reference has %d:\n%s", len(methods), wantMethods, strings.Join(methods, "\n"))
	}
}

func TestReferenceOnlyMethodOptions(t *testing.T) {
	ours := compileOurs(t)
	var problems []string
	for name, want := range referenceOnlyOptions {
		d, ok := ours.byName[name].(protoreflect.MethodDescriptor)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no such method in proto/", name))
			continue
		}
		if _, err := protoregistry.GlobalFiles.FindDescriptorByName(name); err == nil {
			problems = append(problems, fmt.Sprintf("%s: the SDK has it, its option is checked against the SDK; remove it from referenceOnlyOptions", name))
		}
		got := ""
		if s := settings(d); s != nil {
			got = s.GetAuthorizationType().String()
			if len(s.GetRequiredRoles()) > 0 || len(s.GetAudiences()) > 0 {
				got += fmt.Sprintf(" roles=%v audiences=%v", s.GetRequiredRoles(), s.GetAudiences())
			}
		}
		if got != want {
			problems = append(problems, fmt.Sprintf("%s: option want %q, ours %q", name, want, got))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("%d problems:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// ourTree is proto/ compiled.
type ourTree struct {
	files  []protoreflect.FileDescriptor
	byName map[protoreflect.FullName]protoreflect.Descriptor
}

func compileOurs(t *testing.T) *ourTree {
	t.Helper()
	var paths []string
	err := filepath.WalkDir(protoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(path) != ".proto" {
			return nil
		}
		rel, err := filepath.Rel(protoRoot, path)
		if err != nil {
			return err
		}
		paths = append(paths, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatalf("list proto files: %v", err)
	}
	compiler := protocompile.Compiler{
		Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoRoot}}),
	}
	linked, err := compiler.Compile(context.Background(), paths...)
	if err != nil {
		t.Fatalf("compile proto/: %v", err)
	}
	tree := &ourTree{byName: map[protoreflect.FullName]protoreflect.Descriptor{}}
	for _, f := range linked {
		tree.files = append(tree.files, f)
		indexFile(tree.byName, f)
	}
	return tree
}

func indexFile(m map[protoreflect.FullName]protoreflect.Descriptor, fd protoreflect.FileDescriptor) {
	var msgs func(protoreflect.MessageDescriptors)
	enums := func(es protoreflect.EnumDescriptors) {
		for i := 0; i < es.Len(); i++ {
			m[es.Get(i).FullName()] = es.Get(i)
		}
	}
	msgs = func(ms protoreflect.MessageDescriptors) {
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			m[md.FullName()] = md
			enums(md.Enums())
			msgs(md.Messages())
		}
	}
	msgs(fd.Messages())
	enums(fd.Enums())
	for i := 0; i < fd.Services().Len(); i++ {
		sd := fd.Services().Get(i)
		m[sd.FullName()] = sd
		for j := 0; j < sd.Methods().Len(); j++ {
			m[sd.Methods().Get(j).FullName()] = sd.Methods().Get(j)
		}
	}
	for i := 0; i < fd.Extensions().Len(); i++ {
		m[fd.Extensions().Get(i).FullName()] = fd.Extensions().Get(i)
	}
}

// comparer walks SDK descriptors and collects one line per difference from ours.
type comparer struct {
	ours        *ourTree
	problems    []string
	seenDropped map[protoreflect.FullName]bool
}

func (c *comparer) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// lookup finds our counterpart of an SDK element, reporting it when missing. A missing element
// listed in knownDropped is not a problem.
func (c *comparer) lookup(sdk protoreflect.Descriptor) (protoreflect.Descriptor, bool) {
	name := sdk.FullName()
	if _, dropped := knownDropped[name]; dropped {
		c.seenDropped[name] = true
	}
	ours, ok := c.ours.byName[name]
	if !ok {
		if _, dropped := knownDropped[name]; !dropped {
			c.addf("%s: in the SDK (%s), missing in proto/", name, sdk.ParentFile().Path())
		}
		return nil, false
	}
	if sdk.ParentFile().Path() != ours.ParentFile().Path() {
		c.addf("%s: SDK file %s, ours %s", name, sdk.ParentFile().Path(), ours.ParentFile().Path())
	}
	return ours, true
}

func (c *comparer) file(fd protoreflect.FileDescriptor) {
	c.messages(fd.Messages())
	c.enums(fd.Enums())
	for i := 0; i < fd.Services().Len(); i++ {
		c.service(fd.Services().Get(i))
	}
	for i := 0; i < fd.Extensions().Len(); i++ {
		sdk := fd.Extensions().Get(i)
		if o, ok := c.lookup(sdk); ok {
			ours := o.(protoreflect.ExtensionDescriptor)
			if a, b := describeField(sdk), describeField(ours); a != b {
				c.addf("%s: SDK %s, ours %s", sdk.FullName(), a, b)
			}
			if a, b := sdk.ContainingMessage().FullName(), ours.ContainingMessage().FullName(); a != b {
				c.addf("%s: SDK extends %s, ours %s", sdk.FullName(), a, b)
			}
		}
	}
}

func (c *comparer) messages(ms protoreflect.MessageDescriptors) {
	for i := 0; i < ms.Len(); i++ {
		sdk := ms.Get(i)
		if sdk.IsMapEntry() {
			continue // compared through the map field
		}
		o, ok := c.lookup(sdk)
		if !ok {
			continue
		}
		ours, isMsg := o.(protoreflect.MessageDescriptor)
		if !isMsg {
			c.addf("%s: SDK message, ours %T", sdk.FullName(), o)
			continue
		}
		c.fields(sdk, ours)
		c.enums(sdk.Enums())
		c.messages(sdk.Messages())
	}
}

func (c *comparer) fields(sdk, ours protoreflect.MessageDescriptor) {
	for i := 0; i < sdk.Fields().Len(); i++ {
		sf := sdk.Fields().Get(i)
		name := sf.FullName()
		of := ours.Fields().ByName(sf.Name())
		if of == nil {
			if _, dropped := knownDropped[name]; dropped {
				c.seenDropped[name] = true
				continue
			}
			if other := ours.Fields().ByNumber(sf.Number()); other != nil {
				c.addf("%s: SDK %s, ours missing (#%d is %s)", name, describeField(sf), sf.Number(), other.Name())
			} else {
				c.addf("%s: SDK %s, ours missing", name, describeField(sf))
			}
			continue
		}
		if a, b := describeField(sf), describeField(of); a != b {
			c.addf("%s: SDK %s, ours %s", name, a, b)
		}
		if a, b := oneofName(sf), oneofName(of); a != b {
			c.addf("%s: SDK oneof %q, ours oneof %q", name, a, b)
		}
		if other := ours.Fields().ByNumber(sf.Number()); other != nil && other.Name() != sf.Name() {
			c.addf("%s: SDK #%d, ours gives #%d to %s", name, sf.Number(), sf.Number(), other.Name())
		}
	}
	// Numbers the SDK reserved must stay free: old clients may still send them.
	rr := sdk.ReservedRanges()
	for i := 0; i < ours.Fields().Len(); i++ {
		of := ours.Fields().Get(i)
		if rr.Has(of.Number()) {
			c.addf("%s: ours #%d, the SDK reserves that number", of.FullName(), of.Number())
		}
	}
}

func (c *comparer) enums(es protoreflect.EnumDescriptors) {
	for i := 0; i < es.Len(); i++ {
		sdk := es.Get(i)
		o, ok := c.lookup(sdk)
		if !ok {
			continue
		}
		ours, isEnum := o.(protoreflect.EnumDescriptor)
		if !isEnum {
			c.addf("%s: SDK enum, ours %T", sdk.FullName(), o)
			continue
		}
		for j := 0; j < sdk.Values().Len(); j++ {
			sv := sdk.Values().Get(j)
			ov := ours.Values().ByName(sv.Name())
			switch {
			case ov == nil:
				if _, dropped := knownDropped[sv.FullName()]; dropped {
					c.seenDropped[sv.FullName()] = true
					continue
				}
				if other := ours.Values().ByNumber(sv.Number()); other != nil {
					c.addf("%s.%s: SDK #%d, ours missing (#%d is %s)", sdk.FullName(), sv.Name(), sv.Number(), sv.Number(), other.Name())
				} else {
					c.addf("%s.%s: SDK #%d, ours missing", sdk.FullName(), sv.Name(), sv.Number())
				}
			case ov.Number() != sv.Number():
				c.addf("%s.%s: SDK #%d, ours #%d", sdk.FullName(), sv.Name(), sv.Number(), ov.Number())
			}
		}
	}
}

func (c *comparer) service(sdk protoreflect.ServiceDescriptor) {
	o, ok := c.lookup(sdk)
	if !ok {
		return
	}
	ours, isSvc := o.(protoreflect.ServiceDescriptor)
	if !isSvc {
		c.addf("%s: SDK service, ours %T", sdk.FullName(), o)
		return
	}
	for i := 0; i < sdk.Methods().Len(); i++ {
		sm := sdk.Methods().Get(i)
		name := sm.FullName()
		om := ours.Methods().ByName(sm.Name())
		if om == nil {
			if _, dropped := knownDropped[name]; dropped {
				c.seenDropped[name] = true
				continue
			}
			c.addf("%s: SDK %s, ours missing", name, describeMethod(sm))
			continue
		}
		if a, b := describeMethod(sm), describeMethod(om); a != b {
			c.addf("%s: SDK %s, ours %s", name, a, b)
		}
		if a, b := describeSettings(settings(sm)), describeSettings(settings(om)); a != b {
			c.addf("%s: SDK option %s, ours %s", name, a, b)
		}
	}
}

// describeField renders a field's wire shape: cardinality, type and number, e.g.
// "map<string,string> #7", "repeated gpcore.type.v1.SSHKey #3", "optional string #4".
func describeField(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return fmt.Sprintf("map<%s,%s> #%d", typeName(fd.MapKey()), typeName(fd.MapValue()), fd.Number())
	case fd.IsList():
		return fmt.Sprintf("repeated %s #%d", typeName(fd), fd.Number())
	case fd.HasPresence() && fd.ContainingOneof() != nil && fd.ContainingOneof().IsSynthetic():
		return fmt.Sprintf("optional %s #%d", typeName(fd), fd.Number())
	default:
		return fmt.Sprintf("%s #%d", typeName(fd), fd.Number())
	}
}

func typeName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return string(fd.Enum().FullName())
	default:
		return fd.Kind().String()
	}
}

func oneofName(fd protoreflect.FieldDescriptor) protoreflect.Name {
	if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() {
		return o.Name()
	}
	return ""
}

func describeMethod(md protoreflect.MethodDescriptor) string {
	var b strings.Builder
	b.WriteString("(")
	if md.IsStreamingClient() {
		b.WriteString("stream ")
	}
	b.WriteString(string(md.Input().FullName()))
	b.WriteString(") returns (")
	if md.IsStreamingServer() {
		b.WriteString("stream ")
	}
	b.WriteString(string(md.Output().FullName()))
	b.WriteString(")")
	return b.String()
}

// settings reads the gpcore.v1.api option of a method with the SDK's extension type. Our
// descriptors come from protocompile, so their options are re-read from the wire bytes: this is
// also what proves the option itself is wire-compatible.
func settings(md protoreflect.MethodDescriptor) *sdkoptions.GPCORESettings {
	opts, ok := md.Options().(*descriptorpb.MethodOptions)
	if !ok || opts == nil {
		return nil
	}
	raw, err := proto.Marshal(opts)
	if err != nil {
		panic(fmt.Sprintf("marshal options of %s: %v", md.FullName(), err))
	}
	var decoded descriptorpb.MethodOptions
	if err := (proto.UnmarshalOptions{Resolver: protoregistry.GlobalTypes}).Unmarshal(raw, &decoded); err != nil {
		panic(fmt.Sprintf("unmarshal options of %s: %v", md.FullName(), err))
	}
	if !proto.HasExtension(&decoded, sdkoptions.E_Api) {
		return nil
	}
	return proto.GetExtension(&decoded, sdkoptions.E_Api).(*sdkoptions.GPCORESettings)
}

func describeSettings(s *sdkoptions.GPCORESettings) string {
	if s == nil {
		return "none"
	}
	roles := slices.Clone(s.GetRequiredRoles())
	auds := slices.Clone(s.GetAudiences())
	return fmt.Sprintf("{authorization_type: %s, required_roles: %v, audiences: %v}", s.GetAuthorizationType(), roles, auds)
}
