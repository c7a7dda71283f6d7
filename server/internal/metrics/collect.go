package metrics

import (
	"cmp"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultTopStreams is how many streams get a viewer series of their own
// unless the caller says otherwise.
const DefaultTopStreams = 50

// OtherStreams is the stream label under which the viewers of every stream
// outside the top ones are summed. A stream really named "_other" is always
// counted there, so the label never appears twice.
const OtherStreams = "_other"

// Stream origins.
const (
	OriginLocal   = "local"   // published on this node
	OriginRelayed = "relayed" // pulled from another node
)

// StreamInfo is one live stream as the stream collector sees it.
type StreamInfo struct {
	ID      string
	Relayed bool // pulled from another node
	Viewers int  // WebSocket subscribers
}

// StreamSource returns the node's live streams and the bytes their rings
// hold. It is called once per scrape, never on the media path.
type StreamSource func() (streams []StreamInfo, bufferedBytes int64)

// CollectStreams registers a collector that reads src at each scrape:
//
//   - hlsrelay_streams{origin}: live streams, local or relayed;
//   - hlsrelay_stream_viewers{stream}: viewers of the top streams by
//     viewers, the rest summed under stream="_other" (always present), so
//     that at most top+1 series exist whatever the number of streams;
//   - hlsrelay_buffered_bytes: bytes held by all rings.
//
// top < 0 means DefaultTopStreams; 0 sums every stream under "_other".
// It fails if a stream collector is registered already.
func (m *Metrics) CollectStreams(src StreamSource, top int) error {
	if m == nil {
		return nil
	}
	if top < 0 {
		top = DefaultTopStreams
	}
	return m.Registry.Register(&streamCollector{src: src, top: top})
}

var (
	streamsDesc = prometheus.NewDesc(namespace+"_streams",
		"Live streams on this node, by origin: published here (local) or pulled from another node (relayed).",
		[]string{"origin"}, nil)
	streamViewersDesc = prometheus.NewDesc(namespace+"_stream_viewers",
		`WebSocket viewers per stream, for the streams with the most viewers; the others are summed under stream="_other".`,
		[]string{"stream"}, nil)
	bufferedBytesDesc = prometheus.NewDesc(namespace+"_buffered_bytes",
		"Fragment bytes held by the rings of all streams.", nil, nil)
)

type streamCollector struct {
	src StreamSource
	top int
}

func (c *streamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- streamsDesc
	ch <- streamViewersDesc
	ch <- bufferedBytesDesc
}

func (c *streamCollector) Collect(ch chan<- prometheus.Metric) {
	streams, buffered := c.src()
	var local, relayed int
	for _, s := range streams {
		if s.Relayed {
			relayed++
		} else {
			local++
		}
	}
	ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(local), OriginLocal)
	ch <- prometheus.MustNewConstMetric(streamsDesc, prometheus.GaugeValue, float64(relayed), OriginRelayed)
	ch <- prometheus.MustNewConstMetric(bufferedBytesDesc, prometheus.GaugeValue, float64(buffered))

	top, other := topStreams(streams, c.top)
	for _, s := range top {
		ch <- prometheus.MustNewConstMetric(streamViewersDesc, prometheus.GaugeValue, float64(s.Viewers), s.ID)
	}
	ch <- prometheus.MustNewConstMetric(streamViewersDesc, prometheus.GaugeValue, float64(other), OtherStreams)
}

// topStreams returns the n streams with the most viewers (ties by id, so
// the choice is stable between scrapes) and the viewers of all the others.
// It reorders streams.
func topStreams(streams []StreamInfo, n int) (top []StreamInfo, other int) {
	slices.SortFunc(streams, func(a, b StreamInfo) int {
		if c := cmp.Compare(b.Viewers, a.Viewers); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	for _, s := range streams {
		if len(top) < n && s.ID != OtherStreams {
			top = append(top, s)
			continue
		}
		other += s.Viewers
	}
	return top, other
}

// PluginStats are one policy plugin's counters, as the plugin host keeps
// them. They restart from zero when the plugin is reloaded (Prometheus
// treats that as a counter reset).
type PluginStats struct {
	Plugin             string // "auth" or "route"
	CacheHits          uint64 // decisions answered from the decision cache
	InstancesCreated   uint64
	InstancesDiscarded uint64 // after a trap, a timeout or too much memory
	// Failures counts failed calls by kind: trap, timeout, memory,
	// bad_result, busy, init.
	Failures map[string]uint64
}

// PluginSource returns the counters of the node's plugins; called once per
// scrape.
type PluginSource func() []PluginStats

// CollectPlugins registers a collector that reads src at each scrape:
// hlsrelay_plugin_cache_hits_total{plugin},
// hlsrelay_plugin_failures_total{plugin,kind} and
// hlsrelay_plugin_instances_{created,discarded}_total{plugin}. It fails if
// a plugin collector is registered already.
func (m *Metrics) CollectPlugins(src PluginSource) error {
	if m == nil {
		return nil
	}
	return m.Registry.Register(&pluginCollector{src: src})
}

var (
	pluginCacheHitsDesc = prometheus.NewDesc(namespace+"_plugin_cache_hits_total",
		"Policy decisions answered from the plugin decision cache, without a plugin call.", []string{"plugin"}, nil)
	pluginFailuresDesc = prometheus.NewDesc(namespace+"_plugin_failures_total",
		"Failed plugin calls by kind (trap, timeout, memory, bad_result, busy, init).", []string{"plugin", "kind"}, nil)
	pluginCreatedDesc = prometheus.NewDesc(namespace+"_plugin_instances_created_total",
		"Plugin instances created (pool fill and replacements).", []string{"plugin"}, nil)
	pluginDiscardedDesc = prometheus.NewDesc(namespace+"_plugin_instances_discarded_total",
		"Plugin instances discarded after a failure.", []string{"plugin"}, nil)
)

type pluginCollector struct{ src PluginSource }

func (c *pluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginCacheHitsDesc
	ch <- pluginFailuresDesc
	ch <- pluginCreatedDesc
	ch <- pluginDiscardedDesc
}

func (c *pluginCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.src() {
		ch <- prometheus.MustNewConstMetric(pluginCacheHitsDesc, prometheus.CounterValue, float64(s.CacheHits), s.Plugin)
		ch <- prometheus.MustNewConstMetric(pluginCreatedDesc, prometheus.CounterValue, float64(s.InstancesCreated), s.Plugin)
		ch <- prometheus.MustNewConstMetric(pluginDiscardedDesc, prometheus.CounterValue, float64(s.InstancesDiscarded), s.Plugin)
		for kind, n := range s.Failures {
			ch <- prometheus.MustNewConstMetric(pluginFailuresDesc, prometheus.CounterValue, float64(n), s.Plugin, kind)
		}
	}
}
