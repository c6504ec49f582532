/** A request the API refuses with a status of its own (404 unknown task, 409 a task in the wrong state). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export const taskNotFound = (id: string) => new ApiError(404, `task ${JSON.stringify(id)} not found`)
