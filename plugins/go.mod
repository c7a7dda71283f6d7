module github.com/hlsrelay/hlsrelay/plugins

go 1.26

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/tetratelabs/wazero v1.12.0
)

require (
	github.com/hlsrelay/hlsrelay/sdk-go v0.0.0
	golang.org/x/sys v0.44.0 // indirect
)

replace github.com/hlsrelay/hlsrelay/sdk-go => ../sdk-go
