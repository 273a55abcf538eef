# Builds cairn_native.node into native/build/Release/ (`npm run build:native`, run by `prepare`).
# Plain C against node_api.h: no node-addon-api, no runtime dependency. Linux only.
{
  "targets": [
    {
      "target_name": "cairn_native",
      "sources": ["cairn_native.c"],
      "defines": [
        "NAPI_VERSION=8",
        "_GNU_SOURCE",
        "_FILE_OFFSET_BITS=64",
        "_TIME_BITS=64"
      ],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "conditions": [
        ["OS!='linux'", {
          "sources!": ["cairn_native.c"],
          "type": "none"
        }]
      ]
    }
  ]
}
