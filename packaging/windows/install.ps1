<#
.SYNOPSIS
  Installs the Image Diet helper from this release zip for the current user,
  and registers it with every browser. No compiler is needed.

.DESCRIPTION
  Runs the helper's own installer: `imgdiet-host.exe install` copies the
  helper and libvips-42.dll into %LOCALAPPDATA%\ImageDiet, writes the
  browsers' native-messaging manifests there and sets their registry keys
  under HKCU (Chrome, Chromium, Edge, Brave, Vivaldi, Firefox). Then
  `imgdiet-host.exe doctor` starts the helper as a browser would and checks
  every registration. -Uninstall removes exactly what install wrote.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1
  powershell -ExecutionPolicy Bypass -File install.ps1 -Browser chrome,edge
  powershell -ExecutionPolicy Bypass -File install.ps1 -Uninstall
#>
param(
  [string]$Browser = "all",
  [string]$ExtensionId = "",
  [switch]$Uninstall
)
$ErrorActionPreference = "Stop"
$exe = Join-Path $PSScriptRoot "imgdiet-host.exe"
if (-not (Test-Path $exe)) { throw "imgdiet-host.exe is not beside install.ps1: unzip the whole release first" }
if (-not (Test-Path (Join-Path $PSScriptRoot "libvips-42.dll"))) { throw "libvips-42.dll is not beside install.ps1: unzip the whole release first" }

if ($Uninstall) {
  $installed = Join-Path $env:LOCALAPPDATA "ImageDiet\imgdiet-host.exe"
  if (-not (Test-Path $installed)) { $installed = $exe }
  & $installed uninstall --browser $Browser
  if ($LASTEXITCODE -ne 0) { throw "imgdiet-host uninstall failed" }
  exit 0
}

$iargs = @("install", "--browser", $Browser)
if ($ExtensionId) { $iargs += @("--extension-id", $ExtensionId) }
& $exe @iargs
if ($LASTEXITCODE -ne 0) { throw "imgdiet-host install failed" }

$installed = Join-Path $env:LOCALAPPDATA "ImageDiet\imgdiet-host.exe"
$dargs = @("doctor", "--user", "--browser", $Browser)
if ($ExtensionId) { $dargs += @("--extension-id", $ExtensionId) }
Write-Host ""
& $installed @dargs
if ($LASTEXITCODE -ne 0) { Write-Host "install.ps1: the helper is installed but the check above found a problem"; exit 1 }

Write-Host ""
Write-Host "Done. Add the Image Diet extension to your browser (Chrome Web Store, or the release's"
Write-Host "imgdiet-extension unpacked zip through Developer mode), then click its button on any page."
