// jsonpatch applies RFC 6902 JSON patches with the library the Kubernetes API server uses
// (evanphx/json-patch, its v4 API, as k8s.io/apiserver's patch handler does), and turns YAML
// manifests into JSON, so the tests need no kubectl. Built offline from Debian's gocode
// (golang-github-evanphx-json-patch-dev, golang-gopkg-yaml.v2-dev) by tests/tools/CMakeLists.txt.
//
//	jsonpatch apply DOC.json PATCH.json   prints DOC with PATCH applied
//	jsonpatch yaml2json FILE.yaml         prints a JSON array of FILE's non-empty documents
//
// Errors go to stderr, one line, and the exit status is 1 (2 for a wrong command line).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	jsonpatch "github.com/evanphx/json-patch"
	yaml "gopkg.in/yaml.v2"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "jsonpatch: "+format+"\n", args...)
	os.Exit(1)
}

func apply(docPath, patchPath string) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		fail("%v", err)
	}
	patchBytes, err := os.ReadFile(patchPath)
	if err != nil {
		fail("%v", err)
	}
	// The API server's JSON-patch path: DecodePatch, then Apply; a decode error is its 400,
	// an apply error its 422.
	patch, err := jsonpatch.DecodePatch(patchBytes)
	if err != nil {
		fail("the patch does not decode: %v", err)
	}
	out, err := patch.Apply(doc)
	if err != nil {
		fail("the patch does not apply: %v", err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

// keyString is a mapping key as Kubernetes' YAML reader (sigs.k8s.io/yaml, also on yaml.v2)
// writes it in JSON: YAML 1.1 reads keys such as `1`, `true` or `y` as numbers and booleans, and
// they become their decimal or "true"/"false" text; any other kind of key is an error.
func keyString(k interface{}) (string, error) {
	switch t := k.(type) {
	case string:
		return t, nil
	case int:
		return strconv.FormatInt(int64(t), 10), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	}
	return "", fmt.Errorf("a mapping key is neither a string, a number nor a boolean: %v", k)
}

// toJSONValue turns yaml.v2's map[interface{}]interface{} into the map[string]interface{}
// encoding/json can write.
func toJSONValue(v interface{}) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			ks, err := keyString(k)
			if err != nil {
				return nil, err
			}
			jv, err := toJSONValue(val)
			if err != nil {
				return nil, err
			}
			m[ks] = jv
		}
		return m, nil
	case []interface{}:
		for i, val := range t {
			jv, err := toJSONValue(val)
			if err != nil {
				return nil, err
			}
			t[i] = jv
		}
		return t, nil
	default:
		return v, nil
	}
}

func yaml2json(path string) {
	in, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(in))
	docs := []interface{}{}
	for n := 1; ; n++ {
		var doc interface{}
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			fail("%s: document %d: %v", path, n, err)
		}
		if doc == nil {
			continue // an empty document (a leading or trailing ---)
		}
		jv, err := toJSONValue(doc)
		if err != nil {
			fail("%s: document %d: %v", path, n, err)
		}
		docs = append(docs, jv)
	}
	out, err := json.Marshal(docs)
	if err != nil {
		fail("%s: %v", path, err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

func main() {
	switch {
	case len(os.Args) == 4 && os.Args[1] == "apply":
		apply(os.Args[2], os.Args[3])
	case len(os.Args) == 3 && os.Args[1] == "yaml2json":
		yaml2json(os.Args[2])
	default:
		fmt.Fprintln(os.Stderr, "usage: jsonpatch apply DOC.json PATCH.json | jsonpatch yaml2json FILE.yaml")
		os.Exit(2)
	}
}
