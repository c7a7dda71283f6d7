package main

import (
	"errors"
	"github.com/hlsrelay/hlsrelay/plugins/abi"
	"github.com/hlsrelay/hlsrelay/plugins/pdk"
	"github.com/hlsrelay/hlsrelay/plugins/pdk/route"
)

var (
	cfg    config
	loaded bool
)

func init() {
	pdk.HandleInit(load)
	route.Handle(routeRequest)
}

// errNoConfig fails a call if the relay offers no configuration at all.
var errNoConfig = errors.New("the relay offers no configuration (field_get of the config field is absent)")

// load parses the configuration once per instance. If the relay does not
// offer it at init, the first request loads it.
func load() error {
	raw, ok := pdk.Field(abi.FieldConfig)
	if !ok {
		return nil
	}
	c, err := parseConfig(string(raw))
	if err != nil {
		return err
	}
	cfg, loaded = c, true
	return nil
}

func routeRequest() error {
	if !loaded {
		if err := load(); err != nil {
			return err
		}
		if !loaded {
			return errNoConfig
		}
	}
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
