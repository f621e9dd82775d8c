// Package compat proves that the contract in proto/ stays wire-compatible with the public
// GPCORE SDK (buf.build/gen/go/gportal/gpcore), so that existing GPCORE clients work against
// gpcore unchanged.
//
// The package has no code of its own: its test compiles proto/ with protocompile and compares it,
// element by element, with the SDK's descriptors registered in protoregistry.GlobalFiles (field
// numbers, types, cardinality, oneofs, enum values, methods and their gpcore.v1.api options).
// The SDK is a test dependency only; it is never linked into gpcore itself, and this package
// never imports gen/, whose files have the same paths and would collide in the registry.
package compat
