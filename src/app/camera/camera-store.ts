import { create } from 'zustand';

/** Whether the live camera is open: the update prompt waits for it to close. */
export interface CameraState {
  open: boolean;
}

export const useCameraStore = create<CameraState>()(() => ({ open: false }));

export function openCamera(): void {
  useCameraStore.setState({ open: true });
}

export function closeCamera(): void {
  useCameraStore.setState({ open: false });
}
