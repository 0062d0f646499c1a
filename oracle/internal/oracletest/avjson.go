package oracletest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The golden fixtures hold DynamoDB items in the attribute-value JSON of the
// DynamoDB wire protocol ({"S": "..."}, {"N": "..."}, {"M": {...}}), the
// form the TypeScript Oracle's marshall() hands to PutItem. The SDK keeps its
// own codec for that JSON internal, hence this small one.

// wireAV is one attribute value in wire JSON; exactly one field is set.
type wireAV struct {
	S    *string            `json:"S,omitempty"`
	N    *string            `json:"N,omitempty"`
	B    []byte             `json:"B,omitempty"`
	BOOL *bool              `json:"BOOL,omitempty"`
	NULL *bool              `json:"NULL,omitempty"`
	M    map[string]*wireAV `json:"M,omitempty"`
	L    []*wireAV          `json:"L,omitempty"`
	SS   []string           `json:"SS,omitempty"`
	NS   []string           `json:"NS,omitempty"`
	BS   [][]byte           `json:"BS,omitempty"`
}

// DecodeItem parses an item in wire JSON.
func DecodeItem(data []byte) (map[string]types.AttributeValue, error) {
	var w map[string]*wireAV
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("decoding attribute-value JSON: %w", err)
	}
	out, err := mapEach(w, fromWire)
	if err != nil {
		return nil, fmt.Errorf("attribute %w", err)
	}
	return out, nil
}

// mapEach and listEach convert the members of an M or L value (or of a
// whole item) in either direction, naming the key or index that failed.
func mapEach[A, B any](in map[string]A, conv func(A) (B, error)) (map[string]B, error) {
	out := make(map[string]B, len(in))
	for k, v := range in {
		x, err := conv(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = x
	}
	return out, nil
}

func listEach[A, B any](in []A, conv func(A) (B, error)) ([]B, error) {
	out := make([]B, len(in))
	for i, v := range in {
		x, err := conv(v)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = x
	}
	return out, nil
}

func fromWire(w *wireAV) (types.AttributeValue, error) {
	switch {
	case w == nil:
		return nil, fmt.Errorf("null attribute value")
	case w.S != nil:
		return &types.AttributeValueMemberS{Value: *w.S}, nil
	case w.N != nil:
		return &types.AttributeValueMemberN{Value: *w.N}, nil
	case w.B != nil:
		return &types.AttributeValueMemberB{Value: w.B}, nil
	case w.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *w.BOOL}, nil
	case w.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: *w.NULL}, nil
	case w.M != nil:
		m, err := mapEach(w.M, fromWire)
		return &types.AttributeValueMemberM{Value: m}, err
	case w.L != nil:
		l, err := listEach(w.L, fromWire)
		return &types.AttributeValueMemberL{Value: l}, err
	case w.SS != nil:
		return &types.AttributeValueMemberSS{Value: w.SS}, nil
	case w.NS != nil:
		return &types.AttributeValueMemberNS{Value: w.NS}, nil
	case w.BS != nil:
		return &types.AttributeValueMemberBS{Value: w.BS}, nil
	}
	return nil, fmt.Errorf("attribute value without a type")
}

func toWire(av types.AttributeValue) (*wireAV, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return &wireAV{S: &v.Value}, nil
	case *types.AttributeValueMemberN:
		return &wireAV{N: &v.Value}, nil
	case *types.AttributeValueMemberB:
		return &wireAV{B: v.Value}, nil
	case *types.AttributeValueMemberBOOL:
		return &wireAV{BOOL: &v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return &wireAV{NULL: &v.Value}, nil
	case *types.AttributeValueMemberM:
		m, err := mapEach(v.Value, toWire)
		return &wireAV{M: m}, err
	case *types.AttributeValueMemberL:
		l, err := listEach(v.Value, toWire)
		return &wireAV{L: l}, err
	case *types.AttributeValueMemberSS:
		return &wireAV{SS: v.Value}, nil
	case *types.AttributeValueMemberNS:
		return &wireAV{NS: v.Value}, nil
	case *types.AttributeValueMemberBS:
		return &wireAV{BS: v.Value}, nil
	}
	return nil, fmt.Errorf("unsupported attribute value %T", av)
}

// EncodeItem renders an item as canonical wire JSON: keys sorted (as
// encoding/json sorts map keys), two-space indent, trailing newline: the
// form the fixtures are written in, so that a re-encoded item can be
// compared byte for byte.
func EncodeItem(item map[string]types.AttributeValue) ([]byte, error) {
	w, err := mapEach(item, toWire)
	if err != nil {
		return nil, fmt.Errorf("attribute %w", err)
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding attribute-value JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// ReadItem reads a fixture item file.
func ReadItem(tb testing.TB, path string) (map[string]types.AttributeValue, []byte) {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading fixture: %v", err)
	}
	item, err := DecodeItem(raw)
	if err != nil {
		tb.Fatalf("fixture %s: %v", path, err)
	}
	return item, raw
}

// RequireSameBytes fails the test unless item renders exactly as want.
func RequireSameBytes(tb testing.TB, what string, item map[string]types.AttributeValue, want []byte) {
	tb.Helper()
	got, err := EncodeItem(item)
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s is not byte-identical to the fixture:\n got: %s\nwant: %s", what, got, want)
	}
}
