module github.com/surge-dev/surge

go 1.26.8

require (
	github.com/HdrHistogram/hdrhistogram-go v1.4.0
	github.com/google/go-cmp v0.7.0
)

require go.yaml.in/yaml/v3 v3.0.6
