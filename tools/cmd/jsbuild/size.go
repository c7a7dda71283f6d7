package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// scriptBundles are the files whose size is reported; the first one is held
// to the -max-gzip budget.
var scriptBundles = []string{"hlsrelay.min.js", "hlsrelay-compat.min.js"}

var mapComment = regexp.MustCompile(`\n//# sourceMappingURL=[^\n]*\n?$`)

// reportSizes prints the raw and gzipped size of each script-tag bundle
// (without its source-map comment, which servers may strip) and checks the
// budget.
func reportSizes(w io.Writer, dist string, maxGzip int) error {
	for i, name := range scriptBundles {
		data, err := os.ReadFile(filepath.Join(dist, name))
		if err != nil {
			return err
		}
		data = mapComment.ReplaceAll(data, nil)
		gz, err := gzipSize(data)
		if err != nil {
			return err
		}
		budget := ""
		if i == 0 && maxGzip > 0 {
			budget = fmt.Sprintf(" (budget %s)", kB(maxGzip))
		}
		fmt.Fprintf(w, "dist/%-24s %9s raw %9s gzipped%s\n", name, kB(len(data)), kB(gz), budget)
		if i == 0 && maxGzip > 0 && gz > maxGzip {
			return fmt.Errorf("dist/%s is %d bytes gzipped, over the budget of %d", name, gz, maxGzip)
		}
	}
	return nil
}

// gzipSize is the size of data compressed by gzip at its best compression, as
// servers that pre-compress assets send it.
func gzipSize(data []byte) (int, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := zw.Write(data); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

func kB(n int) string {
	return fmt.Sprintf("%.1f kB", float64(n)/1000)
}
