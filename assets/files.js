// What the pages that take photos share about the files a person picks: sizes in words,
// and the Live Photo videos to leave out of a batch.
window.maiimgFiles = (() => {
  'use strict';

  function human(bytes) {
    if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1).replace(/\.0$/, '')} MB`;
    if (bytes >= 1e3) return `${Math.round(bytes / 1e3)} KB`;
    return `${bytes} bytes`;
  }

  const video = (name) => /\.(mov|mp4)$/i.test(name);
  const stem = (name) => {
    const dot = name.lastIndexOf('.');
    return (dot > 0 ? name.slice(0, dot) : name).toLowerCase();
  };

  // A Live Photo arrives as its still (HEIC or JPEG) and a video of the same name: the
  // still is the photo, and the video would only be refused. `present`: files already
  // taken, whose videos may come in a later pick.
  function liveMotion(batch, present = []) {
    const stills = new Set([...batch, ...present].filter((f) => !video(f.name)).map((f) => stem(f.name)));
    return batch.filter((f) => video(f.name) && stills.has(stem(f.name)));
  }

  function motionNote(left) {
    if (!left.length) return '';
    const names = left.map((f) => f.name).join(', ');
    return `The motion of Live Photos is not kept: ${names} ${left.length === 1 ? 'was' : 'were'} left out.`;
  }

  return { human, liveMotion, motionNote };
})();
