<#
.SYNOPSIS
  Builds the Image Diet host on Windows and registers it with every browser
  for the current user.

.DESCRIPTION
  1. Fetches libvips 8.18.7 for Windows (the DLL sharp ships, with the
     matching headers) into .deps\ with npm.
  2. Builds bin\imgdiet-host.exe with Go and cgo (MinGW-w64 gcc) and puts
     libvips-42.dll beside it.
  3. Runs `imgdiet-host.exe install`, which copies both into
     %LOCALAPPDATA%\ImageDiet, writes the host manifests there and sets the
     browsers' registry keys under HKCU (HKLM with -System), then
     `imgdiet-host.exe doctor`.

  Needs on PATH: go (1.21 or later), gcc and pkg-config from MinGW-w64
  (for example MSYS2's UCRT64: pacman -S mingw-w64-ucrt-x86_64-gcc
  mingw-w64-ucrt-x86_64-pkgconf), npm (Node.js) and tar (built into
  Windows 10 and later).

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File scripts\install.ps1
  powershell -ExecutionPolicy Bypass -File scripts\install.ps1 -Browser chrome,edge
#>
param(
  [string]$Browser = "all",
  [switch]$System,
  [string]$ExtensionId = ""
)
$ErrorActionPreference = "Stop"
$root = Split-Path -Parent $PSScriptRoot
Set-Location $root

function Say($msg) { Write-Host "install.ps1: $msg" }
function Need($cmd, $hint) {
  if (-not (Get-Command $cmd -ErrorAction SilentlyContinue)) { throw "$cmd is missing: $hint" }
}
Need go "install Go from https://go.dev/dl/"
Need gcc "install MinGW-w64 gcc (for example MSYS2 UCRT64: pacman -S mingw-w64-ucrt-x86_64-gcc) and put its bin folder on PATH"
Need pkg-config "install pkgconf (MSYS2 UCRT64: pacman -S mingw-w64-ucrt-x86_64-pkgconf)"
Need npm "install Node.js from https://nodejs.org/"
Need tar "use Windows 10 or later (it ships tar.exe)"
if ($root -match ' ') { Say "warning: the path $root has a space; pkg-config may split it. Move the source to a path without spaces if the build fails." }

# 1. libvips for Windows: the DLL from sharp's Windows package, glibconfig.h
# from sharp-libvips' Windows package, headers from sharp-libvips-dev.
$sharpWin = "0.35.5"; $libvipsWin = "1.3.3"; $libvipsDev = "1.3.4"
$deps = Join-Path $root ".deps\libvips-win32-x64-$sharpWin"
if (-not (Test-Path (Join-Path $deps ".complete"))) {
  Say "fetching libvips for Windows into $deps"
  if (Test-Path $deps) { Remove-Item -Recurse -Force $deps }
  $tgz = Join-Path $deps "tgz"
  New-Item -ItemType Directory -Force $tgz | Out-Null
  Push-Location $tgz
  try {
    npm pack --silent "@img/sharp-win32-x64@$sharpWin" "@img/sharp-libvips-win32-x64@$libvipsWin" "@img/sharp-libvips-dev@$libvipsDev" | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "npm pack failed" }
  } finally { Pop-Location }
  foreach ($p in @(@("img-sharp-win32-x64-$sharpWin.tgz", "sharp"), @("img-sharp-libvips-win32-x64-$libvipsWin.tgz", "libvips"), @("img-sharp-libvips-dev-$libvipsDev.tgz", "dev"))) {
    $dir = Join-Path $deps $p[1]
    New-Item -ItemType Directory -Force $dir | Out-Null
    tar -xzf (Join-Path $tgz $p[0]) -C $dir --strip-components=1
    if ($LASTEXITCODE -ne 0) { throw "unpacking $($p[0]) failed" }
  }
  Remove-Item -Recurse -Force $tgz
  New-Item -ItemType File (Join-Path $deps ".complete") | Out-Null
}
$fwd = $deps -replace '\\', '/'
$pc = Join-Path $deps "pkgconfig"
New-Item -ItemType Directory -Force $pc | Out-Null
@"
Name: vips
Description: libvips 8.18.7 from sharp's Windows package
Version: 8.18.7
Cflags: -I$fwd/dev/include -I$fwd/dev/include/glib-2.0 -I$fwd/libvips/lib/glib-2.0/include
Libs: -L$fwd/sharp/lib -l:libvips-42.dll
"@ | Set-Content -Encoding ascii (Join-Path $pc "vips.pc")

# 2. Build.
$bin = Join-Path $root "bin"
New-Item -ItemType Directory -Force $bin | Out-Null
$env:PKG_CONFIG_LIBDIR = $pc
$env:PKG_CONFIG_PATH = ""
$env:CGO_ENABLED = "1"
Say "building bin\imgdiet-host.exe"
go build -trimpath -tags vips_bundle -ldflags "-s -w" -o (Join-Path $bin "imgdiet-host.exe") .\host
if ($LASTEXITCODE -ne 0) { throw "go build failed" }
Copy-Item -Force (Join-Path $deps "sharp\lib\libvips-42.dll") $bin

# 3. Install, register, check.
$exe = Join-Path $bin "imgdiet-host.exe"
$iargs = @("install", "--browser", $Browser)
if ($System) { $iargs += "--system" }
if ($ExtensionId) { $iargs += @("--extension-id", $ExtensionId) }
& $exe @iargs
if ($LASTEXITCODE -ne 0) { throw "imgdiet-host install failed" }

$dargs = @("doctor", "--browser", $Browser)
if ($System) { $dargs += "--system" } else { $dargs += "--user" }
if ($ExtensionId) { $dargs += @("--extension-id", $ExtensionId) }
Write-Host ""
& $exe @dargs
if ($LASTEXITCODE -ne 0) { Say "the host is installed but the check above found a problem"; exit 1 }

Write-Host ""
Write-Host "Done. One step left: open chrome://extensions (or edge://extensions), turn on Developer mode,"
Write-Host "click `"Load unpacked`" and choose $root\extension"
