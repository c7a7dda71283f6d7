// Package examples holds example plugins written in languages other than
// Go, from docs/plugins.md alone; its tests run them through the host test
// kit (package plugintest). See README.md.
package examples
