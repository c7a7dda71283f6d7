// Package abi holds the numbers of the hlsrelay plugin ABI, version 1: the
// names of the exports a plugin provides, the field ids, route kinds,
// signature algorithms, log levels and result codes of the host imports. The
// host (package host) and the Go guest kit (package pdk) both use it; a
// plugin in another language uses docs/plugins.md, which states the same
// numbers.
package abi

// Version is the ABI version that hlsrelay_abi_version must return.
const Version = 1

// ImportModule is the module name of every host import.
const ImportModule = "hlsrelay"

// Exports of a plugin.
const (
	// ExportVersion: () -> i32, returns Version. Required: it marks a module
	// as an hlsrelay plugin.
	ExportVersion = "hlsrelay_abi_version"
	// ExportInit: () -> i32, 0 on success. Optional; called once per
	// instance, after the WASI reactor's _initialize.
	ExportInit = "hlsrelay_init"
	// ExportAuthorize: () -> i32, 0 when it has set a decision. Required of
	// an authorisation plugin.
	ExportAuthorize = "hlsrelay_authorize"
	// ExportRoute: () -> i32, 0 when it has set its sources. Required of a
	// routing plugin.
	ExportRoute = "hlsrelay_route"
	// ExportMemory is the guest memory the host reads and writes.
	ExportMemory = "memory"
	// ExportReactorInit is the WASI reactor initialiser, called first if
	// present (Go's -buildmode=c-shared provides it).
	ExportReactorInit = "_initialize"
)

// Fields readable with field_get.
const (
	FieldAction     = 1 // "PUSH" or "PULL"
	FieldStream     = 2 // the stream id
	FieldToken      = 3 // the auth parameter of PUSH or PULL (may be empty)
	FieldRemoteAddr = 4 // the client's "ip:port"
	FieldNodeID     = 5 // this relay node's name
	FieldConfig     = 6 // the plugin's own configuration, as the operator gave it
	FieldOnlySource = 7 // "true" or "false": the PULL asked not to be relayed from another node
	FieldNodeURL    = 8 // this node's external WebSocket URL ("" if unknown)
)

// Route kinds, in the order a plugin adds them.
const (
	RouteLocal    = 1 // the stream published on this node
	RouteRegistry = 2 // the node the publish registry names
	RouteUpstream = 3 // a fixed upstream relay URL
)

// Signature algorithms of signature_verify.
const (
	AlgHS256 = 1 // HMAC-SHA256; key: the secret bytes
	AlgRS256 = 2 // RSASSA-PKCS1-v1_5 SHA-256; key: PEM or DER public key
	AlgES256 = 3 // ECDSA P-256 SHA-256; key: PEM or DER public key; sig: 64 bytes R||S
	AlgEdDSA = 4 // Ed25519; key: PEM or DER public key, or the raw 32 bytes
)

// Log levels of log.
const (
	LogDebug = 0
	LogInfo  = 1
	LogWarn  = 2
	LogError = 3
)

// Results of the host imports that return an i32 length or status.
const (
	// Absent: field_get of a field not available in this call, or
	// header_get / query_get of a name not present; registry_lookup of a
	// key not in the registry.
	Absent = -1
	// Unavailable: registry_lookup could not ask the registry (none
	// configured, unreachable, or its deadline passed).
	Unavailable = -2
	// Denied: registry_lookup of a key outside the allowed prefixes.
	Denied = -3
	// SigInvalid and SigValid are signature_verify's answers; SigBadKey and
	// SigBadAlg its errors.
	SigInvalid = 0
	SigValid   = 1
	SigBadKey  = -2
	SigBadAlg  = -4
)

// Limits the host enforces on what a plugin sets.
const (
	MaxCodeLen    = 64   // error code of a denial or rejection: [A-Z0-9_]
	MaxReasonLen  = 1024 // reason text
	MaxRouteSteps = 8    // sources of one route decision
	MaxURLLen     = 2048 // upstream URL
	MaxLogLen     = 1024 // one log message (longer ones are cut)
)
