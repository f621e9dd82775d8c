package node

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gpcore/gpcore/internal/fault"
)

// Limits of a node's tags.
const (
	// MaxTags is the most tags a node has.
	MaxTags = 50
	// MaxTagKeyLength bounds a key, in characters.
	MaxTagKeyLength = 64
	// MaxTagValueLength bounds a value, in characters.
	MaxTagValueLength = 255
)

// checkTagKey checks a tag key: 1 to MaxTagKeyLength ASCII letters, digits
// and the punctuation of the usual key conventions (".", "_", "-", ":",
// "/"), so that "key=value" is unambiguous in search.
func checkTagKey(key string) error {
	if key == "" || len(key) > MaxTagKeyLength {
		return fault.Invalid("tags", "a key is 1 to %d characters long", MaxTagKeyLength)
	}
	for _, c := range []byte(key) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-:/", c) >= 0) {
			return fault.Invalid("tags", "key %q: only letters, digits and . _ - : / are allowed", key)
		}
	}
	return nil
}

// checkTagValue checks a tag value: at most MaxTagValueLength characters of
// valid UTF-8 without control characters.
func checkTagValue(key, value string) error {
	switch {
	case !utf8.ValidString(value):
		return fault.Invalid("tags", "value of %q is not valid UTF-8", key)
	case utf8.RuneCountInString(value) > MaxTagValueLength:
		return fault.Invalid("tags", "value of %q is longer than %d characters", key, MaxTagValueLength)
	case strings.IndexFunc(value, unicode.IsControl) >= 0:
		return fault.Invalid("tags", "value of %q contains control characters", key)
	}
	return nil
}

// mergeTags applies changes to tags: each change sets its key, and an
// empty value removes the key. It returns the new tags, checked.
func mergeTags(tags, changes map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(tags)+len(changes))
	for k, v := range tags {
		out[k] = v
	}
	for k, v := range changes {
		if err := checkTagKey(k); err != nil {
			return nil, err
		}
		if v == "" {
			delete(out, k)
			continue
		}
		if err := checkTagValue(k, v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	if len(out) > MaxTags {
		return nil, fault.Invalid("tags", "a node has at most %d tags", MaxTags)
	}
	return out, nil
}

// encodeTags returns the stored forms of tags: the JSON object and the
// search text (see tagsSearch).
func encodeTags(tags map[string]string) (string, string, error) {
	raw, err := json.Marshal(tags)
	if err != nil {
		return "", "", fmt.Errorf("encode tags: %w", err)
	}
	return string(raw), tagsSearch(tags), nil
}

// tagsSearch is the nodes.tags_search text of tags: a line "key=value" per
// tag, sorted and lower-cased, each line between newlines, so that a search
// pattern can match a whole tag ("%\nenv=prod\n%") or a key ("%\nenv=%").
func tagsSearch(tags map[string]string) string {
	lines := make([]string, 0, len(tags))
	for k, v := range tags {
		lines = append(lines, strings.ToLower(k+"="+v))
	}
	slices.Sort(lines)
	return "\n" + strings.Join(lines, "\n") + "\n"
}
