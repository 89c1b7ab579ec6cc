#!/bin/sh
mkdir -p "$1" && exit 0
