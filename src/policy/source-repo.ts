// Source repositories compared the way people name them: "github.com/org/repo",
// "https://github.com/org/repo", "git@github.com:org/repo.git" and the SPDX-style
// "git+https://github.com/org/repo.git" that provenance records all name one repository.
export function sameRepository(recorded: string, wanted: string): boolean {
  return canonical(recorded) === canonical(wanted);
}

function canonical(uri: string): string {
  let rest = uri.trim().replace(/^git\+/, '');
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  rest = rest.slice(scheme ? scheme[0].length : 0).replace(/^[^@/]*@/, '');
  // scp-like syntax: host:path
  if (!scheme) rest = rest.replace(/^([^/:]+):(?!\d+\/)/, '$1/');
  rest = rest.replace(/\/+$/, '').replace(/\.git$/, '');
  const slash = rest.indexOf('/');
  // Hosts are case-insensitive; paths are not (in general).
  return slash < 0 ? rest.toLowerCase() : rest.slice(0, slash).toLowerCase() + rest.slice(slash);
}
