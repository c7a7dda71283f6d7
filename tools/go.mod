module github.com/hlsrelay/hlsrelay/tools

go 1.26

require github.com/hlsrelay/hlsrelay/sdk-go v0.0.0

replace github.com/hlsrelay/hlsrelay/sdk-go => ../sdk-go
