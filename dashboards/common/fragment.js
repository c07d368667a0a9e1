// The API key given in the URL fragment (`#key=…`), which browsers never send to the server (pure).

/** The key in a location hash such as `#key=ioc_x_y&lang=en`, and the hash without it. */
export function takeKeyFromHash(hash) {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const key = params.get('key');
  params.delete('key');
  const rest = params.toString();
  return { key: key && key.trim() ? key.trim() : null, hash: rest ? `#${rest}` : '' };
}
