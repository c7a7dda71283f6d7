package main

import (
	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/route"
)

var cfg config

func init() {
	pdk.HandleInit(load)
	route.Handle(routeRequest)
}

// load parses the configuration once per instance, at init, when the host
// offers it.
func load() error {
	raw, err := pdk.ConfigText()
	if err != nil {
		return err
	}
	cfg, err = parseConfig(raw)
	return err
}

func routeRequest() error {
	if cfg.local {
		pdk.RouteLocal()
	}
	if onlySource, _ := pdk.Field(abi.FieldOnlySource); string(onlySource) == "true" {
		return nil
	}
	if cfg.registry {
		pdk.RouteRegistry()
	}
	if cfg.upstream != "" {
		pdk.RouteUpstream(cfg.upstream)
	}
	return nil
}
