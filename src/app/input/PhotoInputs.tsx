import { useId, useState, type FormEvent } from 'react';
import { openCamera } from '../camera/camera-store';
import { filesFromFolderInput, filesFromList } from './collect-files';
import { takeAddress, takeFiles } from './intake';

const hasCamera = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;

/** Every way to hand over a photo, besides drop and paste which work anywhere on the page. */
export function PhotoInputs() {
  const [address, setAddress] = useState('');
  const [sameAnimal, setSameAnimal] = useState(false);
  const addressId = useId();

  const onAddress = (event: FormEvent) => {
    event.preventDefault();
    if (address.trim() !== '') void takeAddress(address);
  };

  return (
    <section className="inputs" aria-labelledby="inputs-heading">
      <h2 id="inputs-heading" className="visually-hidden">
        Add photos
      </h2>
      <div className="input-buttons">
        <label className="button primary">
          Choose photos
          <input
            type="file"
            accept="image/*"
            multiple
            className="visually-hidden"
            onChange={(event) => {
              const startedAt = performance.now();
              takeFiles(filesFromList(event.currentTarget.files), startedAt, { sameAnimal });
              event.currentTarget.value = ''; // choosing the same photo again still fires
            }}
          />
        </label>
        <label className="button">
          Choose folder
          <input
            type="file"
            multiple
            className="visually-hidden"
            {...{ webkitdirectory: '' }}
            onChange={(event) => {
              const startedAt = performance.now();
              takeFiles(filesFromFolderInput(event.currentTarget.files), startedAt);
              event.currentTarget.value = '';
            }}
          />
        </label>
        {hasCamera ? (
          <button type="button" className="button" onClick={openCamera}>
            Use camera
          </button>
        ) : (
          <label className="button">
            Take photo
            <input
              type="file"
              accept="image/*"
              capture="environment"
              className="visually-hidden"
              onChange={(event) => takeFiles(filesFromList(event.currentTarget.files))}
            />
          </label>
        )}
      </div>
      <label className="choice same-animal">
        <input
          type="checkbox"
          checked={sameAnimal}
          onChange={(event) => setSameAnimal(event.target.checked)}
        />{' '}
        Photos chosen together show the same animal (one answer from all of them)
      </label>
      <form className="address-form" onSubmit={onAddress}>
        <label htmlFor={addressId}>Image address or data: URL</label>
        <div className="row">
          <input
            id={addressId}
            type="text"
            inputMode="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://… or data:image/jpeg;base64,…"
            value={address}
            onChange={(event) => setAddress(event.target.value)}
          />
          <button type="submit" className="button">
            Fetch and identify
          </button>
        </div>
      </form>
      <p className="hint">
        You can also drop photos or whole folders anywhere on this page, or paste an image.
      </p>
    </section>
  );
}
